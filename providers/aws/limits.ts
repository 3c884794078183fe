/**
 * AWS quotas and API limits Bulkhead checks at plan time or respects when batching calls. Each
 * constant names its source (see docs/cloud-semantics.md §1 for the evidence).
 */

/**
 * Inbound or outbound rules per security group, counted separately for IPv4 and IPv6.
 * Source: VPC quotas, "Inbound or outbound rules per security group" (default 60, adjustable).
 */
export const RULES_PER_GROUP_PER_DIRECTION_PER_FAMILY = 60;

/** VPC security groups per Region (default 2,500). Source: VPC quotas, "VPC security groups per Region". */
export const SECURITY_GROUPS_PER_REGION = 2500;

/** Customer-managed prefix lists per Region (default 100). Source: VPC quotas, "Prefix lists per Region". */
export const CUSTOMER_PREFIX_LISTS_PER_REGION = 100;

/** Maximum entries of one customer-managed prefix list. Source: VPC quotas, "Maximum number of entries per prefix list". */
export const PREFIX_LIST_MAX_ENTRIES = 1000;

/** Entries one ModifyManagedPrefixList call may add or remove. Source: API_ModifyManagedPrefixList ("maximum 100 entries"). */
export const PREFIX_LIST_ENTRIES_PER_MODIFY = 100;

/** Characters of a group name, group description, rule description or prefix-list name. Source: API_CreateSecurityGroup. */
export const DESCRIPTION_MAX_LENGTH = 255;

/**
 * Characters AWS accepts in security group names and descriptions and in rule descriptions in a VPC:
 * "a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{}!$*". Source: API_CreateSecurityGroup, security-group-rules.md.
 */
export const DESCRIPTION_CHARSET = /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]*$/;

/** Each character outside DESCRIPTION_CHARSET (the same class, negated): what render replaces. */
export const DESCRIPTION_OUTSIDE_CHARSET = new RegExp(`[^${DESCRIPTION_CHARSET.source.slice(2, -3)}]`, 'g');

/**
 * Weight of an AWS-managed prefix list in the rule quota when the plan cannot know it: AWS counts
 * its MaxEntries, which DescribeManagedPrefixLists does not return for AWS-owned lists (moto and the
 * CLI examples leave it out). Bulkhead counts these as one rule and says so in the quota message.
 */
export const AWS_MANAGED_PREFIX_LIST_ASSUMED_WEIGHT = 1;

/**
 * A CIDR entity with at least this many CIDRs of one address family is rendered as a
 * customer-managed prefix list (MaxEntries = its size, so its quota weight equals the inline
 * rules it replaces and an SG never gets closer to its quota) instead of one rule per CIDR:
 * fewer rule objects to read and write, and one list to change when the entity changes.
 */
export const CIDR_ENTITY_PREFIX_LIST_THRESHOLD = 10;

/**
 * Smallest MaxEntries of an FQDN prefix list. Resolved addresses change between plans; a list
 * sized with room to spare avoids a resize (a separate call) at every change. Sized as the next
 * power of two of the entry count, at least this.
 */
export const FQDN_PREFIX_LIST_MIN_ENTRIES = 4;

/** Bounded retries of DeleteSecurityGroup on DependencyViolation (references revoked just before may lag). */
export const DEPENDENCY_VIOLATION_ATTEMPTS = 4;

/** Page size of Describe* calls (the API's maximum, 1000, so pages grow with objects / 1000). */
export const DESCRIBE_PAGE_SIZE = 1000;

/** The SDK's attempts per call with adaptive retry (throttling: RequestLimitExceeded). */
export const SDK_MAX_ATTEMPTS = 6;
