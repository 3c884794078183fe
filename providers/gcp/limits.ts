/**
 * GCP limits Bulkhead checks at plan time, each with its source (see
 * docs/cloud-semantics.md §3.2). A model that cannot fit fails the plan, never an
 * apply halfway.
 */

/** Source tags per VPC firewall rule (GCP firewall quotas page; mirrored by cluster-api-provider-gcp). */
export const MAX_SOURCE_TAGS = 30;
/** Target tags per VPC firewall rule (same sources). */
export const MAX_TARGET_TAGS = 70;
/** Source, and separately target, service accounts per rule (magic-modules Firewall.yaml `max_size: 10`). */
export const MAX_SERVICE_ACCOUNTS = 10;
/** Source, and separately destination, ranges per rule (GCP docs, quoted in crowdsec bouncer issue 27). */
export const MAX_RANGES = 5000;
/** `destFqdns` per firewall policy rule (firewall-policies-rule-details: FQDN objects). */
export const MAX_DEST_FQDNS = 100;
/** Length of a firewall rule name (RFC 1035 label). */
export const MAX_NAME_LENGTH = 63;
/** Length of a firewall rule description (compute.v1 Firewall.description). */
export const MAX_DESCRIPTION_LENGTH = 2048;

/**
 * Default per-project quota of VPC firewall rules (metric `FIREWALLS`). The real value varies by
 * project (`gcloud compute project-info describe` → quotas[FIREWALLS]); 100 is the value new
 * projects commonly get ("Quota 'FIREWALLS' exceeded. Limit: 100.0 globally"). Override with
 * `createGcpProvider({ firewallQuota })` when your project's is higher. Unowned rules share it.
 */
export const DEFAULT_FIREWALL_QUOTA = 100;

/**
 * Priorities of the rendered VPC firewall rules (0 is the highest precedence, 65535 the lowest).
 * Guardrail denies sit at the lowest numbers so no allow of ours or anyone's at ≥ 100 opens what
 * they close; allows sit in a band above; the deny-all egress sits just under the implied
 * allow-all egress (65535) so it only catches what nothing else allowed.
 */
export const PRIORITY = { guardrailDeny: 100, allow: 1000, denyAllEgress: 65000 } as const;

/**
 * The band of network firewall policy priorities Bulkhead uses for its rules (priority is the
 * rule's identity in a policy; user rules may use 0–2,147,483,547). A rule's priority is derived
 * from its identity hash inside this band, so adding one rule never renumbers the others.
 */
export const POLICY_PRIORITY_BAND = { start: 10_000_000, size: 1_000_000 } as const;
