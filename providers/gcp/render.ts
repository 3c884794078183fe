import type { Endpoint, GuardrailDeny, PortMatch, RuleSet, TargetSpec } from '../../src/compile/types.js';
import type { GcpTargetConfig } from './target.js';
import { error, warning, type Diagnostic, type SourcePos, type SourceRef } from '../../src/diagnostics.js';
import { assertNever } from '../../src/errors.js';
import ipaddr from 'ipaddr.js';
import { cidrContains, cidrsOverlap, excludeCidrs, internetRanges, sortCidrs } from '../../src/model/addresses.js';
import type { Child, ProviderState, Resource } from '../../src/plan/types.js';
import { labelSlug, nameWithHashTail } from '../kit/names.js';
import { withDescriptionMarker } from '../kit/ownership.js';
import { allocateSlots, slotHash } from '../kit/slots.js';
import { flat } from '../kit/strings.js';
import {
  canonicalNetwork,
  canonicalPolicyRule,
  canonicalProtocolRules,
  canonicalRanges,
  canonicalServiceAccounts,
  canonicalTags,
  firewallResourceBuilder,
  policyRuleBody,
  wireProtocol,
  isV6,
  policyResource,
  POLICY_TYPE,
  policyRuleChild,
  reservedPolicyPriorities,
  type FirewallSpec,
  type PolicyRuleSpec,
  type ProtocolRule,
} from './canonical.js';
import {
  MAX_DEST_FQDNS,
  MAX_NAME_LENGTH,
  MAX_RANGES,
  MAX_SERVICE_ACCOUNTS,
  MAX_SOURCE_TAGS,
  MAX_TARGET_TAGS,
  POLICY_PRIORITY_BAND,
  PRIORITY,
} from './limits.js';

/**
 * Render (pure): a RuleSet → the desired GCP objects of one target.
 *
 * - One VPC firewall rule per (segment, direction, peer, address family) carrying all of that
 *   flow's services; targets are the segment's network tag `<model>-<segment>` or its service
 *   account. Ingress from segment peers names the peer's tag/SA; egress toward segment peers goes to
 *   the target's internal ranges minus the CIDR entities declared inside them (GCP egress rules
 *   cannot name tags; DESIGN §5), and the receiver's ingress rule does the segmenting.
 * - Guardrail denies at priority 100, allows at 1000, a deny-all egress for the model's segments at
 *   65000 (GCP's implied rule allows all egress). A deny whose peer is the built-in `internet`
 *   covers every address OUTSIDE the target's `internalRanges` (0.0.0.0/0 and ::/0 minus them: 31
 *   CIDRs for RFC 1918, at most 32 per excluded IPv4 range and 128 per IPv6 one, split at GCP's
 *   5,000 ranges per rule), as Azure's `Internet` tag does: a deny of 0.0.0.0/0 at
 *   priority 100 would beat the allows at 1000 and cut the segment-to-segment flows the compiler
 *   allowed (egress toward internal ranges, ingress by source tag from internal addresses). A deny
 *   of `any` still means every address, segments included; other entities deny their own ranges.
 * - FQDN egress: rules of the target's global network firewall policy with `destFqdns`, each at a
 *   priority derived from its identity inside Bulkhead's band, probing past priorities taken by
 *   another of ours or held by an unowned rule (`live.reserved`).
 * - Names: `<model>-<readable part>-<hash>`: the hash is of the rule's identity (not its position or
 *   ports), so names are stable across plans and a port change is an in-place update.
 */

/** What render produced for a target, with everything it could not express. */
export interface GcpRender {
  /** Sorted by address. */
  readonly resources: Resource[];
  readonly diagnostics: Diagnostic[];
}

type Identity = { readonly kind: 'tag' | 'sa'; readonly value: string };
type Family = 'v4' | 'v6' | 'any';

interface Draft {
  /** Identity of the rule: what its name's hash is made of. */
  readonly key: string;
  readonly readable: readonly string[];
  readonly direction: 'INGRESS' | 'EGRESS';
  readonly priority: number;
  readonly action: 'allow' | 'deny';
  readonly rules: readonly ProtocolRule[];
  readonly sourceRanges?: readonly string[] | undefined;
  readonly sources?: readonly Identity[];
  readonly destinationRanges?: readonly string[] | undefined;
  readonly targets: readonly Identity[];
  readonly summary: string;
  readonly origins: readonly SourceRef[];
}

/** The target config of a GCP target (render is only ever called with one). */
function gcpConfig(target: TargetSpec): GcpTargetConfig | undefined {
  return target.kind === 'gcp' ? target.gcp : undefined;
}

/**
 * `<model>-<readable>-<hash6>`, at most 63 characters, valid RFC 1035: the kit's name with a hash
 * tail (providers/kit/names.ts), the tail a hash of `<model>\n<key>`, so a port change (not in the
 * key) keeps the name. The same names as before while they fit; a model name near 63 characters
 * used to make names longer than 63.
 */
export function ruleName(model: string, readable: readonly string[], key: string): string {
  return nameWithHashTail([model, ...readable], MAX_NAME_LENGTH, 6, { identity: `${model}\n${key}` });
}

/** `items` in pieces of at most `size`; a list that fits is its own only piece (no copy: render's memos key on it). */
function chunk<T>(items: readonly T[], size: number): (readonly T[])[] {
  if (items.length <= size) return [items];
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Indices of `keys` in the order of their keys (code units), equal keys in index order. */
function sortedIndices(keys: readonly string[]): number[] {
  const order: number[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i++) order[i] = i;
  return order.sort((a, b) => {
    const x = keys[a]!;
    const y = keys[b]!;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
}

/** The canonical tags and service accounts of a list of identities. */
interface IdentityLists {
  readonly tags: readonly string[];
  readonly accounts: readonly string[];
}

const NONE: readonly string[] = Object.freeze([]);
const FAMILIES = ['v4', 'v6'] as const;
const ANY_V4: readonly string[] = Object.freeze(['0.0.0.0/0']);
const NO_IDENTITIES: IdentityLists = { tags: NONE, accounts: NONE };
/** The protocols of the deny-all egress rules (one list, so its canonical form is made once). */
const ALL_PROTOCOLS: readonly ProtocolRule[] = Object.freeze([Object.freeze({ protocol: 'all', ports: NONE })]);

/** A list frozen with its entries (shared read-only by many rules); every empty list is one. */
function frozen<T>(list: T[]): readonly T[] {
  if (list.length === 0) return NONE as readonly T[];
  for (const x of list) if (x !== null && typeof x === 'object') Object.freeze(x);
  return Object.freeze(list);
}

function splitIdentities(ids: readonly Identity[]): IdentityLists {
  return {
    tags: frozen(canonicalTags(ids.filter((i) => i.kind === 'tag').map((i) => i.value))),
    accounts: frozen(canonicalServiceAccounts(ids.filter((i) => i.kind === 'sa').map((i) => i.value))),
  };
}

function firstPos(origins: readonly SourceRef[]): SourcePos | undefined {
  return origins[0]?.pos;
}

/**
 * GCP protocol entries of canonical services for one address family. ICMP type/code cannot be
 * matched by GCP firewall rules, so it is an error rather than a silently wider rule.
 */
function protocolEntries(
  services: readonly PortMatch[],
  family: Family,
  onError: (message: string) => void,
): ProtocolRule[] {
  const entries: { IPProtocol: string; ports?: string[] }[] = [];
  for (const s of services) {
    switch (s.kind) {
      case 'all':
        entries.push({ IPProtocol: 'all' });
        break;
      case 'ports':
        entries.push({ IPProtocol: s.protocol, ports: [s.from === s.to ? `${s.from}` : `${s.from}-${s.to}`] });
        break;
      case 'icmp': {
        if (s.type !== null || s.code !== null) {
          onError(
            `${s.protocol} type ${s.type ?? '*'} code ${s.code ?? '*'}: GCP firewall rules match ICMP only as a whole protocol (no type or code); write the service as plain \`${s.protocol}\``,
          );
          break;
        }
        if (s.protocol === 'icmp' && family !== 'v6') entries.push({ IPProtocol: 'icmp' });
        if (s.protocol === 'icmpv6' && family !== 'v4') entries.push({ IPProtocol: '58' });
        break;
      }
      case 'protocol':
        entries.push({ IPProtocol: String(s.number) });
        break;
      default:
        assertNever(s);
    }
  }
  return canonicalProtocolRules(entries);
}

/** Identity of a PortMatch as text (distinct matches, distinct texts): the memo key of `protocolEntries`. */
function serviceKey(s: PortMatch): string {
  switch (s.kind) {
    case 'all':
      return 'all';
    case 'ports':
      return `${s.protocol}:${s.from}-${s.to}`;
    case 'icmp':
      return `${s.protocol}:${s.type}:${s.code}`;
    case 'protocol':
      return `#${s.number}`;
    default:
      return assertNever(s);
  }
}

/** `<summary> [bulkhead:model=<model>]`: the kit's description marker after the readable part. */
function describe(model: string, summary: string): string {
  return withDescriptionMarker(summary, model);
}

/**
 * The live priority of each policy rule key: an owned rule of the policy in `live` whose rule
 * name is the one render gives the key (the name ends in a hash of the model and the key, so it
 * names the key as well as a description could, and is what the API echoes back).
 */
function livePolicyPriorities(
  live: ProviderState | undefined,
  policy: string,
  rules: readonly { readonly key: string; readonly spec: { readonly ruleName: string } }[],
): Map<string, number> {
  const out = new Map<string, number>();
  const resource = live?.resources.find((r) => r.type === POLICY_TYPE && r.name === policy);
  if (!resource) return out;
  const byName = new Map<string, number>();
  for (const c of resource.children) {
    const name = c.attributes['ruleName'];
    const priority = c.attributes['priority'];
    // Two owned rules of one name (a copy someone made): the lowest priority is the rule, the other is drift and goes.
    if (typeof name === 'string' && typeof priority === 'number')
      byName.set(name, Math.min(priority, byName.get(name) ?? priority));
  }
  for (const r of rules) {
    const p = byName.get(r.spec.ruleName);
    if (p !== undefined) out.set(r.key, p);
  }
  return out;
}

/**
 * Renders one target; `render` and `validate` are both views of this. `live` (what read found,
 * when render runs in a plan) only moves FQDN policy rules off priorities that unowned rules hold
 * (`ProviderState.reserved`).
 */
export function renderGcp(rules: RuleSet, target: TargetSpec, live?: ProviderState): GcpRender {
  const gcp = gcpConfig(target);
  const diagnostics: Diagnostic[] = [];
  if (!gcp) return { resources: [], diagnostics };
  const model = rules.model.name;
  const network = `projects/${gcp.project}/global/networks/${gcp.network}`;
  const segmentSpecs = new Map(rules.segments.map((s) => [s.name, s]));
  // A segment's identity, computed once per segment (every rule of a segment names it; slugging is
  // regex work). Shared read-only.
  const identities = new Map<string, Identity>();
  const identity = (segment: string): Identity => {
    let id = identities.get(segment);
    if (id === undefined) {
      const sa = segmentSpecs.get(segment)?.gcp?.serviceAccount;
      id = sa
        ? { kind: 'sa', value: sa.toLowerCase() }
        : { kind: 'tag', value: `${labelSlug(model)}-${labelSlug(segment)}` };
      identities.set(segment, id);
    }
    return id;
  };
  // protocolEntries per (family, services), computed once per render: a model has a handful of
  // distinct service lists but one rule per flow, and each computation parses and sorts port
  // texts. The ICMP errors of a list are replayed to every caller, so each flow still reports its
  // own. The returned lists are shared read-only (bodies and specs copy them).
  type ProtocolMemo = { readonly rules: ProtocolRule[]; readonly errors: readonly string[] };
  const protocolMemo = new Map<string, ProtocolMemo>();
  const protocolsById = new WeakMap<readonly PortMatch[], Map<Family, ProtocolMemo>>();
  const serviceLists = new WeakMap<PortMatch, readonly PortMatch[]>();
  /** The one list of a service alone (compile shares a handful of service objects among all intents). */
  const singleService = (service: PortMatch): readonly PortMatch[] => {
    let list = serviceLists.get(service);
    if (list === undefined) {
      list = Object.freeze([service]);
      serviceLists.set(service, list);
    }
    return list;
  };
  /** The protocol entries of `services`; an ICMP type or code is an error at `pos`, named by `summary`. */
  const protocols = (
    services: readonly PortMatch[],
    family: Family,
    summary: string,
    pos: SourcePos | undefined,
  ): ProtocolRule[] => {
    // By the list itself first (a group of one intent has its service's one list), then by text.
    let byFamily = protocolsById.get(services);
    if (byFamily === undefined) {
      byFamily = new Map();
      protocolsById.set(services, byFamily);
    }
    let m = byFamily.get(family);
    if (!m) {
      const memoKey = `${family}|${services.map(serviceKey).join(',')}`;
      m = protocolMemo.get(memoKey);
      if (!m) {
        const errors: string[] = [];
        m = { rules: protocolEntries(services, family, (e) => errors.push(e)), errors };
        protocolMemo.set(memoKey, m);
      }
      byFamily.set(family, m);
    }
    for (const e of m.errors) diagnostics.push(error('gcp-icmp-type', `${summary}: ${e}`, pos));
    return m.rules;
  };

  // --- drafts → resources ---
  // Each draft becomes its resource as soon as it is made (in the same order as a list of drafts
  // would be walked), so the drafts never pile up in memory: at 1,000 segments they are ~40k
  // objects the garbage collector would otherwise keep copying. Name collisions are reported after
  // render's other diagnostics, as before.
  const resources: Resource[] = [];
  // Every draft in the order made: its name, key, position and resource (none without protocols).
  // Two drafts of one name are found afterwards, next to each other in the drafts sorted by name
  // (stably, so the first made keeps the name, as when a Map of names was asked per draft: a
  // lookup of a ~540,000-entry Map per rule was a tenth of render at 10,000 segments, issue 11).
  const drafts = {
    names: [] as string[],
    keys: [] as string[],
    pos: [] as (SourcePos | undefined)[],
    resources: [] as (Resource | undefined)[],
  };
  const project = gcp.project;
  // Desired goes through the same canonicalization as what is read (canonical.ts), so a plan after
  // an apply is empty. It used to be a round trip per rule (spec → API body → canonicalFirewall →
  // resource, every list copied three times); a model has a handful of distinct protocol lists,
  // range lists and identities but one rule per flow, so each is canonicalized once here and the
  // frozen result shared by every rule that has it (test/providers/gcp/render-shared.test.ts holds
  // the result equal to the round trip). At 10,000 segments that is ~540,000 rules (issue 11).
  const build = firewallResourceBuilder(target.name);
  const firewallNetwork = canonicalNetwork(network, project);
  const canonicalRules = new WeakMap<readonly ProtocolRule[], readonly ProtocolRule[]>();
  const rulesOf = (list: readonly ProtocolRule[]): readonly ProtocolRule[] => {
    let out = canonicalRules.get(list);
    if (out === undefined) {
      out = frozen(canonicalProtocolRules(list.map((r) => ({ IPProtocol: wireProtocol(r.protocol), ports: r.ports }))));
      canonicalRules.set(list, out);
    }
    return out;
  };
  // Range lists by identity (an entity's list, the internal ranges), then by text (the same list
  // rebuilt by compile for another intent).
  const rangesById = new WeakMap<readonly string[], readonly string[]>();
  const rangesByText = new Map<string, readonly string[]>();
  const rangesOf = (list: readonly string[] | undefined): readonly string[] => {
    if (list === undefined || list.length === 0) return NONE;
    let out = rangesById.get(list);
    if (out === undefined) {
      const text = list.join(' ');
      out = rangesByText.get(text);
      if (out === undefined) {
        out = frozen(canonicalRanges(list));
        rangesByText.set(text, out);
      }
      rangesById.set(list, out);
    }
    return out;
  };
  // Tags and service accounts of one identity (most rules name one), or of a list of them.
  const singles = new Map<Identity, IdentityLists>();
  const identityLists = (ids: readonly Identity[] | undefined): IdentityLists => {
    if (ids === undefined || ids.length === 0) return NO_IDENTITIES;
    if (ids.length > 1) return splitIdentities(ids);
    let out = singles.get(ids[0]!);
    if (out === undefined) {
      out = splitIdentities(ids);
      singles.set(ids[0]!, out);
    }
    return out;
  };
  // Consecutive drafts of one flow share its summary and origins (its v4 and v6 rules).
  let lastSummary: string | undefined;
  let lastDescription = '';
  let lastOrigins: readonly SourceRef[] | undefined;
  let lastDeduped: readonly SourceRef[] = [];
  function emit(d: Draft): void {
    const name = flat(ruleName(model, d.readable, d.key));
    drafts.names.push(name);
    drafts.keys.push(d.key);
    drafts.pos.push(firstPos(d.origins));
    if (d.rules.length === 0) {
      drafts.resources.push(undefined);
      return;
    }
    if (d.summary !== lastSummary) {
      lastSummary = d.summary;
      lastDescription = flat(describe(model, d.summary));
    }
    if (d.origins !== lastOrigins) {
      lastOrigins = d.origins;
      lastDeduped = dedupeOrigins(d.origins);
    }
    const sources = identityLists(d.sources);
    const targets = identityLists(d.targets);
    let sourceRanges = rangesOf(d.sourceRanges);
    let destinationRanges = rangesOf(d.destinationRanges);
    // The defaults the API fills in (canonicalFirewall makes them explicit on the read side too).
    if (d.direction === 'INGRESS' && sourceRanges.length + sources.tags.length + sources.accounts.length === 0)
      sourceRanges = ANY_V4;
    if (d.direction === 'EGRESS' && destinationRanges.length === 0) destinationRanges = ANY_V4;
    const spec: FirewallSpec = {
      name,
      network: firewallNetwork,
      direction: d.direction,
      priority: d.priority,
      action: d.action,
      rules: rulesOf(d.rules),
      sourceRanges,
      sourceTags: sources.tags,
      sourceServiceAccounts: sources.accounts,
      destinationRanges,
      targetTags: targets.tags,
      targetServiceAccounts: targets.accounts,
      disabled: false,
      logging: 'off',
      description: lastDescription,
    };
    drafts.resources.push(build(spec, { origins: lastDeduped, widens: d.action === 'allow' }));
  }
  const policyRules: { key: string; spec: Omit<PolicyRuleSpec, 'priority'>; origins: readonly SourceRef[] }[] = [];
  const internal = { v4: gcp.internalRanges.filter((r) => !isV6(r)), v6: gcp.internalRanges.filter(isV6) };
  // What a deny of the built-in `internet` means: every address outside the network's internal
  // ranges (like Azure's `Internet` tag), never 0.0.0.0/0, which at top precedence would also cut
  // the segment-to-segment flows the model allows (GuardrailDeny, src/compile/types.ts).
  const outside = internetRanges(gcp.internalRanges);
  const outsideInternal = { v4: outside.filter((r) => !isV6(r)), v6: outside.filter(isV6) };
  // Where egress toward another segment may go (DESIGN §5): the internal ranges minus every CIDR
  // entity declared inside them. The receiver's ingress rule segments by tag, but an entity in the
  // internal ranges (a VPN or on-premises range) has no such rule on its side, so without the
  // carve-out a segment allowed to reach another segment on a port could reach it too.
  const segmentEgress = rules.rules.some((r) => r.direction === 'egress' && r.peer.kind === 'segment')
    ? segmentEgressRanges(rules, internal)
    : { ranges: internal, covered: [] };
  if (segmentEgress.covered.length > 0) {
    diagnostics.push(
      error(
        'gcp-internal-ranges-covered',
        `target ${target.name}: entity ${segmentEgress.covered.join(', ')} covers every internal range of one address family, so egress between segments would go nowhere; ` +
          `set \`internalRanges\` on the target to the network's own subnet ranges (outside the entity)`,
        target.pos,
      ),
    );
  }

  // --- allows: one rule per (segment, direction, peer, family) ---
  // A group is a run of equal keys in the intents sorted (stably) by key, in key order as before:
  // no Map of groups. At 10,000 segments that is ~440,000 intents, and a Map with a group object
  // per key, each touched again after a sort of its entries, cost more in cache misses than
  // making the rules did (issue 11). A group object lives for one iteration only.
  const intents = rules.rules;
  const groupKeys = intents.map((i) => flat(`${i.segment}|${i.direction}|${peerKey(i.peer)}`));
  const byKey = sortedIndices(groupKeys);
  for (let s = 0, e = 0; s < byKey.length; s = e) {
    const key = groupKeys[byKey[s]!]!;
    for (e = s + 1; e < byKey.length && groupKeys[byKey[e]!] === key; e++);
    const first = intents[byKey[s]!]!;
    const g = {
      segment: first.segment,
      direction: first.direction,
      peer: first.peer,
      intents: e - s === 1 ? [first] : byKey.slice(s, e).map((i) => intents[i]!),
    };
    // An ICMP intent carries its entity narrowed to one family (compile-rules.ts): the group's
    // peer is the union of its intents' peers, or a group whose first intent is the narrowed one
    // would lose the other family's rule (found by test/reach/model-vs-render.property.test.ts).
    for (let k = 1; k < g.intents.length; k++) g.peer = unionPeer(g.peer, g.intents[k]!.peer);
    const services = g.intents.length === 1 ? singleService(first.service) : g.intents.map((i) => i.service);
    // One intent per group is the common case: its origins as they are (read-only), no flatMap copy.
    const origins = g.intents.length === 1 ? g.intents[0]!.origins : g.intents.flatMap((i) => i.origins);
    const pos = firstPos(origins);
    const target0 = identity(g.segment);
    const dir = g.direction === 'ingress' ? 'INGRESS' : 'EGRESS';
    const short = g.direction === 'ingress' ? 'in' : 'out';
    const peer = g.peer;
    const peerName = peerLabel(peer);
    const summary = `${g.segment} ${g.direction} ${g.direction === 'ingress' ? 'from' : 'to'} ${peerName}`;
    const err = (code: string, message: string) => diagnostics.push(error(code, message, pos));
    if (peer.kind === 'fqdns') {
      if (g.direction !== 'egress') {
        err('gcp-fqdn-ingress', `${summary}: a domain name can only be an egress destination`);
        continue;
      }
      if (!gcp.firewallPolicy) {
        err(
          'gcp-fqdn-needs-firewall-policy',
          `${summary} (${peer.fqdns.join(', ')}): GCP VPC firewall rules cannot match domain names; FQDN egress needs a global network firewall policy. ` +
            `Create one (\`gcloud compute network-firewall-policies create <name> --global\`), associate it with network ${gcp.network} ` +
            `(\`gcloud compute network-firewall-policies associations create --firewall-policy <name> --network ${gcp.network} --global-firewall-policy\`) ` +
            `and name it on target ${target.name} as \`gcp: { firewallPolicy: <name> }\``,
        );
        continue;
      }
      const l4 = protocols(services, 'any', summary, pos);
      const fqdnChunks = chunk(peer.fqdns, MAX_DEST_FQDNS);
      fqdnChunks.forEach((fqdns, i) => {
        const ruleKey = `policy|${key}${fqdnChunks.length > 1 ? `|${i}` : ''}`;
        policyRules.push({
          key: ruleKey,
          origins,
          spec: {
            ruleName: ruleName(model, [g.segment, 'fqdn', peer.entity], ruleKey),
            description: describe(model, summary),
            direction: 'EGRESS',
            action: 'allow',
            destFqdns: fqdns,
            destIpRanges: [],
            srcIpRanges: [],
            layer4Configs: l4,
            targetServiceAccounts: target0.kind === 'sa' ? [target0.value] : [],
            targetResources: target0.kind === 'sa' ? [] : [network],
            enableLogging: false,
            disabled: false,
          },
        });
      });
      if (target0.kind === 'tag') {
        diagnostics.push(
          warning(
            'gcp-fqdn-rule-scope',
            `${summary}: network firewall policy rules cannot target network tags, so the rule in policy ${gcp.firewallPolicy} applies to every instance of network ${gcp.network}; ` +
              `give segment ${g.segment} a service account (\`gcp: { serviceAccount: … }\`) to scope it`,
            pos,
          ),
        );
      }
      continue;
    }
    if (peer.kind === 'segment') {
      if (g.direction === 'ingress') {
        const src = identity(peer.name);
        if (src.kind !== target0.kind) {
          err(
            'gcp-tag-service-account-mix',
            `${summary}: segment ${g.segment} is matched by ${target0.kind === 'sa' ? 'service account' : 'network tag'} and ${peer.name} by ${src.kind === 'sa' ? 'service account' : 'network tag'}; ` +
              'GCP firewall rules cannot combine tags with service accounts: give both segments a `gcp.serviceAccount`, or neither',
          );
          continue;
        }
        const rulesAny = protocols(services, 'any', summary, pos);
        for (const [i, srcChunk] of chunk(
          [src],
          src.kind === 'tag' ? MAX_SOURCE_TAGS : MAX_SERVICE_ACCOUNTS,
        ).entries()) {
          emit({
            key: `${key}|any|${i}`,
            readable: [g.segment, short, peerName],
            direction: dir,
            priority: PRIORITY.allow,
            action: 'allow',
            rules: rulesAny,
            sources: srcChunk,
            targets: [target0],
            summary,
            origins,
          });
        }
        continue;
      }
      pushRanged(
        key,
        [g.segment, short, peerName],
        dir,
        segmentEgress.ranges,
        services,
        target0,
        summary,
        origins,
        pos,
      );
      continue;
    }
    const ranges = peerRanges(peer);
    if (!ranges) {
      err(
        'gcp-entity-unbound',
        `${summary}: entity ${peerName} has no \`gcp\` binding (cidrs), so target ${target.name} cannot use it`,
      );
      continue;
    }
    pushRanged(key, [g.segment, short, peerName], dir, ranges, services, target0, summary, origins, pos);
  }

  function pushRanged(
    key: string,
    readable: readonly string[],
    direction: 'INGRESS' | 'EGRESS',
    ranges: { readonly v4: readonly string[]; readonly v6: readonly string[] },
    services: readonly PortMatch[],
    target0: Identity,
    summary: string,
    origins: readonly SourceRef[],
    pos: SourcePos | undefined,
  ): void {
    for (const family of FAMILIES) {
      const list = ranges[family];
      if (list.length === 0) continue;
      const protos = protocols(services, family, summary, pos);
      if (protos.length === 0) continue;
      const chunks = chunk(list, MAX_RANGES);
      for (let i = 0; i < chunks.length; i++) {
        const c = chunks[i]!;
        emit({
          key: `${key}|${family}|${i}`,
          readable: chunks.length > 1 ? [...readable, family, String(i + 1)] : [...readable, family],
          direction,
          priority: PRIORITY.allow,
          action: 'allow',
          rules: protos,
          sourceRanges: direction === 'INGRESS' ? c : undefined,
          destinationRanges: direction === 'INGRESS' ? undefined : c,
          targets: [target0],
          summary,
          origins,
        });
      }
    }
  }

  // --- guardrail denies ---
  for (const deny of rules.denies) renderDeny(deny);

  function renderDeny(deny: GuardrailDeny): void {
    const pos = firstPos(deny.origins);
    const summary = `guardrail ${deny.guardrail}`;
    const err = (code: string, message: string) => diagnostics.push(error(code, message, pos));
    const peer = deny.peer;
    const segments = deny.segments.map((s) => ({ name: s, id: identity(s) }));
    const base = `deny|${deny.id}`;
    const readable = (dir: string, family: string) => ['deny', deny.guardrail, dir, family];
    if (peer.kind === 'segment' || (peer.kind !== 'any' && peer.kind === 'fqdns')) {
      if (peer.kind === 'fqdns') {
        err(
          'gcp-fqdn-deny',
          `${summary}: denying by domain name is not supported on GCP VPC firewall rules; deny the addresses instead`,
        );
        return;
      }
      // Segment ↔ segment: rendered as ingress on the receiver from the sender(s), which is
      // exactly the traffic (GCP egress rules cannot name tags).
      const receivers = deny.direction === 'ingress' ? segments : [{ name: peer.name, id: identity(peer.name) }];
      const senders = deny.direction === 'ingress' ? [{ name: peer.name, id: identity(peer.name) }] : segments;
      for (const kind of ['tag', 'sa'] as const) {
        const recv = receivers.filter((r) => r.id.kind === kind).map((r) => r.id);
        const send = senders.filter((s) => s.id.kind === kind).map((s) => s.id);
        const mixed = senders.filter((s) => s.id.kind !== kind).map((s) => s.name);
        if (recv.length === 0) continue;
        if (mixed.length > 0) {
          err(
            'gcp-tag-service-account-mix',
            `${summary}: ${mixed.join(', ')} and ${receivers
              .filter((r) => r.id.kind === kind)
              .map((r) => r.name)
              .join(
                ', ',
              )} are matched differently (network tag vs service account); GCP firewall rules cannot combine them`,
          );
        }
        if (send.length === 0) continue;
        const protos = protocols(deny.services, 'any', summary, pos);
        const recvChunks = chunk(recv, kind === 'tag' ? MAX_TARGET_TAGS : MAX_SERVICE_ACCOUNTS);
        const sendChunks = chunk(send, kind === 'tag' ? MAX_SOURCE_TAGS : MAX_SERVICE_ACCOUNTS);
        recvChunks.forEach((r, i) =>
          sendChunks.forEach((s, j) =>
            emit({
              key: `${base}|${kind}|${i}|${j}`,
              readable: [
                ...readable('in', kind),
                ...(recvChunks.length * sendChunks.length > 1 ? [`${i + 1}`, `${j + 1}`] : []),
              ],
              direction: 'INGRESS',
              priority: PRIORITY.guardrailDeny,
              action: 'deny',
              rules: protos,
              sources: s,
              targets: r,
              summary,
              origins: deny.origins,
            }),
          ),
        );
      }
      return;
    }
    const ranges =
      peer.kind === 'any'
        ? { v4: ['0.0.0.0/0'], v6: ['::/0'] }
        : peer.kind === 'cidrs' && peer.builtin === 'internet'
          ? outsideInternal
          : peerRanges(peer);
    if (!ranges) {
      err('gcp-entity-unbound', `${summary}: entity ${peerLabel(peer)} has no \`gcp\` binding (cidrs)`);
      return;
    }
    const dir = deny.direction === 'ingress' ? 'INGRESS' : 'EGRESS';
    for (const family of ['v4', 'v6'] as const) {
      const list = ranges[family];
      if (list.length === 0) continue;
      const protos = protocols(deny.services, family, summary, pos);
      if (protos.length === 0) continue;
      for (const kind of ['tag', 'sa'] as const) {
        const targets = segments.filter((s) => s.id.kind === kind).map((s) => s.id);
        if (targets.length === 0) continue;
        const tChunks = chunk(targets, kind === 'tag' ? MAX_TARGET_TAGS : MAX_SERVICE_ACCOUNTS);
        const rChunks = chunk(list, MAX_RANGES);
        tChunks.forEach((t, i) =>
          rChunks.forEach((r, j) =>
            emit({
              key: `${base}|${family}|${kind}|${i}|${j}`,
              readable: [
                ...readable(deny.direction === 'ingress' ? 'in' : 'out', family),
                ...(kind === 'sa' ? ['sa'] : []),
                ...(tChunks.length * rChunks.length > 1 ? [`${i + 1}`, `${j + 1}`] : []),
              ],
              direction: dir,
              priority: PRIORITY.guardrailDeny,
              action: 'deny',
              rules: protos,
              sourceRanges: dir === 'INGRESS' ? r : undefined,
              destinationRanges: dir === 'INGRESS' ? undefined : r,
              targets: t,
              summary,
              origins: deny.origins,
            }),
          ),
        );
      }
    }
  }

  // --- the deny-all egress of the model's segments (default deny egress) ---
  const all = rules.segments.map((s) => identity(s.name));
  for (const family of ['v4', 'v6'] as const) {
    for (const kind of ['tag', 'sa'] as const) {
      const ids = all.filter((i) => i.kind === kind);
      if (ids.length === 0) continue;
      const chunks = chunk(ids, kind === 'tag' ? MAX_TARGET_TAGS : MAX_SERVICE_ACCOUNTS);
      chunks.forEach((c, i) =>
        emit({
          key: `deny-all-egress|${family}|${kind}|${i}`,
          readable: [
            'deny-all-egress',
            family,
            ...(kind === 'sa' ? ['sa'] : []),
            ...(chunks.length > 1 ? [`${i + 1}`] : []),
          ],
          direction: 'EGRESS',
          priority: PRIORITY.denyAllEgress,
          action: 'deny',
          rules: ALL_PROTOCOLS,
          destinationRanges: [family === 'v4' ? '0.0.0.0/0' : '::/0'],
          targets: c,
          summary: 'default-deny egress of the model segments',
          origins: [],
        }),
      );
    }
  }
  // The firewalls by name (so by address), one per name; a second draft of a name with another
  // key is a collision, reported in the order the drafts were made.
  const byName = sortedIndices(drafts.names);
  const collided: number[] = [];
  for (let s = 0, e = 0; s < byName.length; s = e) {
    const kept = byName[s]!;
    const resource = drafts.resources[kept];
    if (resource) resources.push(resource);
    for (e = s + 1; e < byName.length && drafts.names[byName[e]!] === drafts.names[kept]; e++)
      if (drafts.keys[byName[e]!] !== drafts.keys[kept]) collided.push(byName[e]!);
  }
  for (const i of collided.sort((a, b) => a - b)) {
    diagnostics.push(
      error(
        'gcp-name-collision',
        `two rules render to the same name ${drafts.names[i]}; rename a segment or entity`,
        drafts.pos[i],
      ),
    );
  }

  // --- policy rules: the kit's stable slots inside the band (providers/kit/slots.ts) ---
  if (gcp.firewallPolicy) {
    const children: Child[] = [];
    // A rule's home is a hash of its identity; an owned rule read back (found by its rule name,
    // which carries the same identity's hash) keeps its live priority, so adding or removing an
    // FQDN rule never moves another (a priority is the rule's identity: a move is a delete and a
    // create). Priorities unowned rules hold are never taken.
    const byKey = new Map(policyRules.map((r) => [r.key, r]));
    const slots = allocateSlots({
      range: { from: POLICY_PRIORITY_BAND.start, to: POLICY_PRIORITY_BAND.start + POLICY_PRIORITY_BAND.size - 1 },
      keys: [...byKey.keys()],
      live: livePolicyPriorities(live, gcp.firewallPolicy, policyRules),
      reserved: reservedPolicyPriorities(live?.reserved),
      hash: (k) => slotHash(`${model}\n${k}`),
    });
    if (slots.kind === 'overflow') {
      diagnostics.push(
        error(
          'gcp-policy-priority-exhausted',
          `firewall policy ${gcp.firewallPolicy} (target ${target.name}): ${slots.needed} FQDN rules do not fit the ${slots.free} free priorities of Bulkhead's band ${POLICY_PRIORITY_BAND.start}-${POLICY_PRIORITY_BAND.start + POLICY_PRIORITY_BAND.size - 1}`,
          target.pos,
        ),
      );
    } else {
      for (const [key, r] of [...byKey].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        const canonical = canonicalPolicyRule(
          policyRuleBody({ ...r.spec, priority: slots.slots.get(key)! }),
          gcp.project,
        );
        children.push(policyRuleChild(canonical, { origins: dedupeOrigins(r.origins), widens: true }));
      }
    }
    resources.push(policyResource(target.name, gcp.firewallPolicy, children));
    if (children.length > 0) {
      diagnostics.push(
        warning(
          'gcp-fqdn-enforcement-order',
          `FQDN egress rules in firewall policy ${gcp.firewallPolicy} take effect only if network ${gcp.network} evaluates the policy before its VPC firewall rules ` +
            `(\`gcloud compute networks update ${gcp.network} --network-firewall-policy-enforcement-order=BEFORE_CLASSIC_FIREWALL\`): otherwise the model's deny-all egress rule matches first`,
          target.pos,
        ),
      );
    }
  }
  resources.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  return { resources, diagnostics };
}

/**
 * The destinations of egress toward segments: `internal` minus the declared CIDR entities
 * (`rules.entities`, plus any CIDR peer the rules name, for RuleSets built without it) that
 * overlap it. `covered` names the entities that leave a family with nothing at all.
 */
export function segmentEgressRanges(
  rules: RuleSet,
  internal: { readonly v4: readonly string[]; readonly v6: readonly string[] },
): { ranges: { v4: string[]; v6: string[] }; covered: string[] } {
  const byName = new Map<string, { v4: readonly string[]; v6: readonly string[] }>();
  for (const e of rules.entities ?? []) byName.set(e.name, { v4: e.ipv4, v6: e.ipv6 });
  const peers = [...rules.rules.map((r) => r.peer), ...rules.denies.map((d) => d.peer)];
  for (const p of peers) {
    // The built-in internet is no declared entity (narrowed to one family it loses `builtin`, not its name).
    if (p.kind === 'cidrs' && !p.builtin && p.entity !== 'internet' && !byName.has(p.entity))
      byName.set(p.entity, { v4: p.ipv4, v6: p.ipv6 });
  }
  const names = [...byName.keys()].sort();
  const ranges = { v4: [...internal.v4], v6: [...internal.v6] };
  const covered = new Set<string>();
  for (const family of ['v4', 'v6'] as const) {
    if (internal[family].length === 0) continue;
    const inside = names.filter((n) =>
      byName.get(n)![family].some((c) => internal[family].some((i) => cidrsOverlap(c, i))),
    );
    if (inside.length === 0) continue;
    ranges[family] = carve(
      internal[family],
      inside.flatMap((n) => byName.get(n)![family]),
    );
    if (ranges[family].length === 0) for (const n of inside) covered.add(n);
  }
  return { ranges, covered: [...covered] };
}

/**
 * `excludeCidrs(base, exclude)`, divided and conquered: each half of a range only meets the
 * exclusions that overlap it, so thousands of entity ranges (a partner list of /24s inside 10/8)
 * cost their own number times the prefix depth instead of a scan of all of them per visited range.
 */
function carve(base: readonly string[], exclude: readonly string[]): string[] {
  const out: string[] = [];
  const visit = (c: string, ex: readonly string[]) => {
    const here = ex.filter((e) => cidrsOverlap(e, c));
    if (here.length === 0) out.push(c);
    else if (here.length <= 8) out.push(...excludeCidrs([c], here));
    else if (!here.some((e) => cidrContains(e, c))) for (const h of halves(c)) visit(h, here);
  };
  for (const b of base) visit(b, exclude);
  return sortCidrs(out);
}

/** The two halves of a CIDR one bit longer (canonical text). */
function halves(cidr: string): [string, string] {
  const [addr, len] = ipaddr.parseCIDR(cidr);
  const bytes = addr.toByteArray();
  const hi = [...bytes];
  hi[len >> 3] = hi[len >> 3]! | (0x80 >> (len & 7));
  const make = (b: number[]) => `${ipaddr.fromByteArray(b).toString()}/${len + 1}`;
  return [make(bytes), make(hi)];
}

/** Origins without repeats; a list of one is itself (read-only: shared with the RuleSet). */
function dedupeOrigins(origins: readonly SourceRef[]): readonly SourceRef[] {
  if (origins.length < 2) return origins;
  const seen = new Set<string>();
  return origins.filter((o) => {
    const k = `${o.pos.file}:${o.pos.line}:${o.pos.column}:${o.label}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** The union of two endpoints of one entity (the same entity narrowed to different families). */
function unionPeer(a: Endpoint, b: Endpoint): Endpoint {
  const merge = (x: readonly string[], y: readonly string[]) =>
    y.every((c) => x.includes(c)) ? x : [...new Set([...x, ...y])].sort();
  if (a.kind === 'cidrs' && b.kind === 'cidrs') {
    const ipv4 = merge(a.ipv4, b.ipv4),
      ipv6 = merge(a.ipv6, b.ipv6);
    return ipv4 === a.ipv4 && ipv6 === a.ipv6
      ? a
      : { ...a, ipv4, ipv6, ...((a.builtin ?? b.builtin) ? { builtin: a.builtin ?? b.builtin } : {}) };
  }
  if (a.kind === 'cloud' && b.kind === 'cloud' && a.gcp && b.gcp) {
    const ipv4 = merge(a.gcp.ipv4, b.gcp.ipv4),
      ipv6 = merge(a.gcp.ipv6, b.gcp.ipv6);
    return ipv4 === a.gcp.ipv4 && ipv6 === a.gcp.ipv6 ? a : { ...a, gcp: { ...a.gcp, ipv4, ipv6 } };
  }
  return a;
}

function peerKey(peer: Endpoint): string {
  switch (peer.kind) {
    case 'segment':
      return `segment:${peer.name}`;
    case 'cidrs':
      return `cidrs:${peer.entity}`;
    case 'fqdns':
      return `fqdns:${peer.entity}`;
    case 'cloud':
      return `cloud:${peer.entity}`;
    default:
      return assertNever(peer);
  }
}

function peerLabel(peer: Endpoint | { readonly kind: 'any' }): string {
  switch (peer.kind) {
    case 'segment':
      return peer.name;
    case 'any':
      return 'any';
    default:
      return peer.entity;
  }
}

function peerRanges(peer: Endpoint): { v4: readonly string[]; v6: readonly string[] } | undefined {
  switch (peer.kind) {
    case 'cidrs':
      return { v4: peer.ipv4, v6: peer.ipv6 };
    case 'cloud':
      return peer.gcp ? { v4: peer.gcp.ipv4, v6: peer.gcp.ipv6 } : undefined;
    default:
      return undefined;
  }
}
