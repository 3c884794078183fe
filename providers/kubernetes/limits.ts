/**
 * Kubernetes limits and fixed numbers, each with its source (the API's validation rules, the
 * network-policy-api CRD, Cilium's CRD).
 */

/** Object names are DNS subdomains (RFC 1123): at most 253 characters. */
export const MAX_NAME_LENGTH = 253;
/** Namespace names and label values are DNS labels / label values: at most 63 characters. */
export const MAX_LABEL_LENGTH = 63;
/** ANP names: kept to a DNS label so they stay readable in `kubectl get anp` (the API allows 253). */
export const MAX_ANP_NAME_LENGTH = 63;
/** `networks` of one ANP egress peer: at most 25 CIDRs (CRD maxItems). */
export const MAX_ANP_NETWORKS = 25;
/** Rules per direction of one ANP (CRD maxItems). */
export const MAX_ANP_RULES = 100;
/** ANP rule names: at most 100 characters (CRD maxLength). */
export const MAX_ANP_RULE_NAME = 100;
/**
 * Priority of the guardrail ANPs: 0-1000, lower wins. 10 leaves room above for a cluster admin's own
 * emergency policies while staying ahead of everything a namespace's NetworkPolicy can say (ANPs
 * are always evaluated before NetworkPolicies).
 */
export const ANP_PRIORITY = 10;
/** The DNS service every segment may reach by default (DESIGN §8): kube-dns in kube-system. */
export const KUBE_DNS = { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } } as const;

/** RFC 1123 label: namespace names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: object names. */
export const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A label value: empty, or alphanumerics with `-_.` inside, 63 at most. */
export const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
/** A label key: optional DNS-subdomain prefix and `/`, then a name of 63 at most. */
export const LABEL_KEY =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Why a label key is not valid, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (!LABEL_KEY.test(key))
    return `"${key}" is not a label key (an optional DNS-subdomain prefix and "/", then letters, digits, "-", "_" or "." starting and ending with a letter or digit)`;
  if (name.length > MAX_LABEL_LENGTH)
    return `label key "${key}": the name part is longer than ${MAX_LABEL_LENGTH} characters`;
  if (prefix.length > MAX_NAME_LENGTH)
    return `label key "${key}": the prefix is longer than ${MAX_NAME_LENGTH} characters`;
  return undefined;
}

/** Why a label value is not valid, or undefined when it is. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > MAX_LABEL_LENGTH) return `label value "${value}" is longer than ${MAX_LABEL_LENGTH} characters`;
  if (!LABEL_VALUE.test(value))
    return `"${value}" is not a label value (letters, digits, "-", "_" or ".", starting and ending with a letter or digit)`;
  return undefined;
}

/** Why a namespace name is not valid, or undefined when it is. */
export function namespaceProblem(ns: string): string | undefined {
  if (ns.length > MAX_LABEL_LENGTH || !DNS_LABEL.test(ns))
    return `"${ns}" is not a namespace name (lower-case letters, digits and "-", starting and ending with a letter or digit, ${MAX_LABEL_LENGTH} characters at most)`;
  return undefined;
}
