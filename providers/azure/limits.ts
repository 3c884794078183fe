/**
 * Azure's limits that Bulkhead checks at plan time, each with its source. Numbers are the
 * documented defaults; the ones marked "hard" cannot be raised by a support request.
 */

/** Security rules per NSG (hard). Source: azure-virtual-network-limits include (Z3), "Security rules per network security group". */
export const RULES_PER_NSG = 1000;

/**
 * Source/destination IP addresses and ranges summed over the rules of one NSG (hard).
 * Source: Z3, "Source or destination IP addresses and ranges per network security group: 4,000".
 */
export const ADDRESSES_PER_NSG = 4000;

/**
 * Distinct ASGs referenced across all rules of one NSG (hard). Source: Z3, "Application security
 * groups that can be specified within all security rules of a network security group: 100". Z3
 * says "if there's no maximum limit column, the resource doesn't have adjustable limits", and the
 * networking table has none: none of the per-NSG limits here can be raised, so an Azure target
 * declares no quotas (unlike AWS `quotas` and GCP `firewallQuota`); it spreads segments over NSGs.
 */
export const ASGS_PER_NSG = 100;

/** Lowest user priority of an NSG rule. Source: NSG overview (Z1), "a number between 100 and 4096". */
export const PRIORITY_MIN = 100;

/** Highest user priority of an NSG rule (Z1); 65000–65500 belong to the default rules. */
export const PRIORITY_MAX = 4096;

/** Rule and ASG names: 1–80 characters. Source: Z1 / ARM naming rules for Microsoft.Network. */
export const NAME_MAX = 80;

/** Start with a word character, end with a word character or `_`, and contain only word characters, `.`, `-`, `_`. Source: ARM naming rules for Microsoft.Network/networkSecurityGroups/securityRules. */
export const NAME_PATTERN = /^[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;

/** Rule description length. Source: swagger SecurityRulePropertiesFormat.description, "Restricted to 140 chars". */
export const DESCRIPTION_MAX = 140;

/** Port numbers of a Firewall Policy application rule protocol. Source: firewallPolicy.json FirewallPolicyRuleApplicationProtocol.port (maximum 64000). */
export const APPLICATION_RULE_PORT_MAX = 64000;

/**
 * Bulkhead's split of the priority range (per direction, since Azure makes priorities unique per
 * direction only):
 *
 *   100 ─ 199   guardrail denies (lowest numbers = evaluated first)
 *   200 ─ 4094  allowed flows, hash-placed (stable)
 *   4095        inbound: allow AzureLoadBalancer (the default rule 65001 that the deny-all hides)
 *   4096        deny all (Azure's defaults 65000/65001 allow all VNet traffic and Internet egress)
 */
export const DENY_BAND = { from: 100, to: 199 } as const;
/** See DENY_BAND. */
export const ALLOW_BAND = { from: 200, to: 4094 } as const;
/** See DENY_BAND. */
export const LOAD_BALANCER_PRIORITY = 4095;
/** See DENY_BAND. */
export const DENY_ALL_PRIORITY = PRIORITY_MAX;

/** Priority of Bulkhead's rule collection group in the firewall policy (groups range 100–65000; swagger). */
export const RULE_COLLECTION_GROUP_PRIORITY = 1000;
/** Priority of the allow collection inside that group (100–65000; swagger). */
export const RULE_COLLECTION_PRIORITY = 100;
