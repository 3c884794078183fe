/**
 * Validation: the loaded YAML trees → a SegmentModel, or every reason it is not one.
 *
 * Design decisions (the README's model-language section is written from this block):
 * - ALL problems are reported at once, each at the file:line:column of the offending node (the
 *   key for unknown keys, the item for bad values), in included files too. Structural checks come
 *   from the shipped JSON Schema (`schema.json`, via ajv, `schema-check.ts`): keys, types, name
 *   and id patterns. Values with a grammar of their own (services, CIDRs, FQDNs, references) are
 *   left to the named semantic rules below, so one mistake gives one message, the precise one.
 * - Host bits set in a CIDR (`10.0.0.5/24`) are an ERROR (`cidr-host-bits`), not a silent
 *   normalization: in a security model it is ambiguous whether the writer meant the host
 *   (`10.0.0.5/32`) or the network (`10.0.0.0/24`), and guessing "network" would widen access.
 *   The message offers both readings. A bare address means /32 or /128. IPv6 text is normalized
 *   to RFC 5952 without comment (that changes no meaning).
 * - References: a bare name is a segment or an entity (`internet` is built in); `tier:<name>`
 *   names a tier. A name that is both a segment and an entity is an ambiguous reference; an
 *   unknown name gets "did you mean" (edit distance), and a bare tier name suggests `tier:x`.
 * - Protocol names are case-insensitive (`TCP/443` = `tcp/443`); `any` and `*` are accepted
 *   spellings of `all`; a YAML number in `ports` is an IANA protocol number (6 = tcp), and a port
 *   number without protocol is an error that suggests `tcp/N`.
 * - `include:` files may hold `services`, `entities`, `guardrails` and further `include`s; the
 *   model's own parts (`name`, `targets`, `tiers`, `segments`) belong to the root file. A name
 *   defined twice across files is an error naming both places. Every file starts with `bulkhead: 1`.
 * - A file with none of a model's own parts is a guardrail PACK: `bulkhead validate pack.yaml`
 *   checks it on its own (structure, ports, entities, references to its own names); names of
 *   segments and tiers are left to the models that include it. `compile` refuses a pack.
 * - An FQDN entity is only ever a destination (egress `to`, guardrail `to`): clouds cannot match
 *   traffic by the source's DNS name. Wildcard FQDNs are errors (GCP FQDN objects, Azure network
 *   rules and DNS-resolved AWS prefix lists match exact names only).
 * - FQDN egress on an Azure or GCP target without `firewallPolicy` is a WARNING: NSGs and VPC
 *   firewall rules cannot filter by name, so `validate` warns (the model is valid, the
 *   other targets can still be planned) and the provider fails the plan of that target.
 * - A per-cloud entity used by a segment is an error for every target whose cloud has no binding.
 * - Guardrail violations, ICMP/address-family mismatches and everything that needs the expanded
 *   flows are checked by `compileRules` (compile/compile-rules.ts), with the same positions:
 *   a `deny` is violated by any allowed flow that shares a port AND an address with it. `internet`
 *   is every address outside the internal ranges (a target's `internalRanges`, on every cloud;
 *   default RFC 1918, 100.64.0.0/10 and fc00::/7: DESIGN §5, src/model/addresses.ts), so it
 *   overlaps a CIDR entity with some address outside them (a partner /24), not a VPN range
 *   inside them, and every FQDN and cloud entity, never a segment: the meaning Azure's `Internet`
 *   tag and the GCP rendering give it. With several targets, a CIDR reaching outside the ranges
 *   of any of them overlaps. FQDNs against a narrower CIDR set cannot be decided before DNS
 *   resolution and count as disjoint. An `only` is violated by a flow into its segments from a
 *   source not listed (a CIDR source is listed when a listed CIDR entity contains it).
 * - `ignoreWarnings: [code, …]` (root file only) silences warnings by code, so a warning the
 *   user has looked at (`unknown-region` for a region newer than Bulkhead) need not repeat;
 *   any string is accepted (codes come and go), errors are never silenced.
 * - `bulkhead: "1"` (a string) is an error; a model without `segments:` is an error (it would plan
 *   to destroy everything it owns), an explicit `segments: {}` a warning (`empty-segments`).
 *   What is particular to a cloud (its target config, bindings, place names, limits) is checked by
 *   its provider's target descriptor (providers/<id>/target.ts), called from here through the
 *   registry: AWS regions and Azure locations against known lists (near one, an error with "did
 *   you mean"; otherwise a warning `unknown-region` / `unknown-location`), the strictest managed-
 *   name length of all providers, adopted groups used twice.
 * - YAML anchors, aliases and merge keys (`<<: *defaults`) work; top-level `x-…` keys are ignored,
 *   a place to define anchors. Positions of reused nodes are those of the anchor's definition.
 * - Names: segments and the model name are lower-case DNS labels (they become cloud names,
 *   `<name>-<segment>` at most 63 characters); target names have no '.' (plan addresses are
 *   `<target>.<type>.<name>`); services are not protocol keywords; `internet` is reserved.
 */
import type { Diagnostic, Result, SourcePos } from '../diagnostics.js';
import { error, hasErrors, warning } from '../diagnostics.js';
import type { CloudBinding, CloudBindings, PortMatch, SegmentOverrides, TargetSpec } from '../compile/types.js';
import { entry, toPlain, type LoadedFile, type LoadedModel, type YEntry, type YNode } from './load.js';
import { parseCidr, parseFqdn, sortCidrs } from './addresses.js';
import { checkSchema } from './schema-check.js';
import { comparePortMatch, parseService, PROTOCOL_KEYWORDS } from './services.js';
import { closest, didYouMean } from './suggest.js';
import { configOf, targetOf, type ConfigReader, type TargetDescriptor } from '../provider.js';
import { getTarget, targetDescriptors } from '../targets.js';
import type {
  EntityDef,
  FlowDef,
  GuardrailDef,
  GuardrailSide,
  PeerRef,
  SegmentDef,
  SegmentModel,
  ServiceDef,
  TierDef,
} from './types.js';

/** The format versions this Bulkhead reads. */
export const SUPPORTED_VERSIONS: readonly number[] = [1];
/** RFC 1918 (part of DEFAULT_INTERNAL_RANGES, src/model/addresses.ts, the default of every target). */
export const RFC1918: readonly string[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'];
/** Keys only the root model file may hold. */
const ROOT_ONLY_KEYS = ['name', 'targets', 'tiers', 'segments'] as const;
/** The built-in entity every model can name. */
export const INTERNET = 'internet';

interface Def<T> {
  readonly name: string;
  readonly pos: SourcePos;
  readonly node: YNode;
  readonly file: LoadedFile;
  value?: T;
}

const isStr = (n: YNode | undefined): n is YNode & { kind: 'scalar'; value: string } =>
  n?.kind === 'scalar' && typeof n.value === 'string';
const strOf = (n: YNode | undefined): string | undefined => (isStr(n) ? n.value : undefined);
/** The items of a node that may be written as one item or a list. */
const itemsOf = (n: YNode | undefined): readonly YNode[] =>
  n === undefined ? [] : n.kind === 'seq' ? n.items : n.kind === 'scalar' && n.value === null ? [] : [n];
const mapEntries = (n: YNode | undefined): readonly YEntry[] => (n?.kind === 'map' ? n.entries : []);
/**
 * An array built by `push`, copied into an exact-size store: V8 gives an array 17 slots on its
 * first push, and a model keeps two small lists per flow (peers, services) to the end of the
 * pipeline (~60 MB of empty slots at 10,000 segments).
 */
const fit = <T>(items: T[]): T[] => items.slice();

/** Validates a loaded model (root file and includes) into a SegmentModel. */
export function validateModel(loaded: LoadedModel): Result<SegmentModel> {
  const { model, diagnostics } = validateModelPartial(loaded);
  if (!model || hasErrors(diagnostics)) return { ok: false, diagnostics };
  return { ok: true, value: model, diagnostics };
}

/**
 * Validation that keeps going: every diagnostic, and the model as far as it could be built even
 * when there are errors: broken references, services and entities are left out, and so is every
 * guardrail with an error of its own (so none is checked half-resolved). `compileFile` checks
 * the flows of such a partial model against its guardrails, so guardrail violations are reported
 * together with the other errors rather than one round later. Never plan from a partial model.
 */
export function validateModelPartial(loaded: LoadedModel): { model?: SegmentModel; diagnostics: Diagnostic[] } {
  const diags: Diagnostic[] = [];
  const files = loaded.files.filter((f) => f.root !== null);
  const rootFile = loaded.files.find((f) => f.isRoot);
  if (!rootFile || rootFile.root === null) return { diagnostics: diags };

  // 1. Structure (JSON Schema) and the format version of every file.
  for (const f of files) {
    diags.push(...checkSchema(f.root!));
    checkVersion(f, diags);
    if (!f.isRoot) {
      for (const key of [...ROOT_ONLY_KEYS, 'ignoreWarnings']) {
        const e = entry(f.root!, key);
        if (e) {
          diags.push(
            error(
              'include-content',
              `"${key}" belongs in the root model file (${rootFile.file}); included files hold services, entities, guardrails and include`,
              e.keyPos,
            ),
          );
        }
      }
    }
  }
  const root = rootFile.root;
  // A root file with none of a model's own parts but guardrails, services or entities is a pack,
  // validated on its own: names it cannot resolve (the including model's segments and tiers) pass.
  const isPack =
    root.kind === 'map' &&
    !ROOT_ONLY_KEYS.some((k) => entry(root, k)) &&
    ['guardrails', 'services', 'entities', 'include'].some((k) => entry(root, k));
  const nameNode = entry(root, 'name')?.value;
  const name = isPack ? '' : strOf(nameNode);
  if (!isPack && entry(root, 'name') === undefined)
    diags.push(
      error('missing-name', 'the model has no "name" (it prefixes managed names and marks owned objects)', root.pos),
    );
  const segmentsEntry = entry(root, 'segments');
  if (!isPack && root.kind === 'map' && segmentsEntry === undefined) {
    // Default-deny with no segments plans to destroy every object the model owns: never without a word.
    diags.push(
      error(
        'missing-segments',
        'the model has no "segments": planning it would destroy every object it owns; to retire the model on purpose, write "segments: {}"',
        root.pos,
      ),
    );
  } else if (!isPack && segmentsEntry?.value.kind === 'map' && segmentsEntry.value.entries.length === 0) {
    // (An empty `segments:` is not a mapping: the schema reports it.)
    diags.push(
      warning(
        'empty-segments',
        'the model has no segments: a plan destroys every object it owns (retiring the model); silence with "ignoreWarnings: [empty-segments]"',
        segmentsEntry.keyPos,
      ),
    );
  }

  // 2. Definitions, across files; a name defined twice is an error naming both places.
  const collect = <T>(section: string, fromFiles: readonly LoadedFile[], what: string): Map<string, Def<T>> => {
    const out = new Map<string, Def<T>>();
    for (const f of fromFiles) {
      for (const e of mapEntries(entry(f.root!, section)?.value)) {
        const prev = out.get(e.key);
        if (prev) {
          diags.push(
            error('duplicate-definition', `${what} "${e.key}" is defined twice`, e.keyPos, [
              { message: `first definition of ${what} "${e.key}"`, pos: prev.pos },
            ]),
          );
          continue;
        }
        out.set(e.key, { name: e.key, pos: e.keyPos, node: e.value, file: f });
      }
    }
    return out;
  };
  const serviceDefs = collect<ServiceDef>('services', files, 'service');
  const entityDefs = collect<EntityDef>('entities', files, 'entity');
  const targetDefs = collect<TargetSpec>('targets', [rootFile], 'target');
  const tierDefs = collect<TierDef>('tiers', [rootFile], 'tier');
  const segmentDefs = collect<SegmentDef>('segments', [rootFile], 'segment');

  // 3. Services (named services may reference others; cycles are errors).
  const services = resolveServices(serviceDefs, diags);

  // 4. Entities.
  const entities = new Map<string, EntityDef>();
  entities.set(INTERNET, {
    kind: 'cidrs',
    name: INTERNET,
    pos: root.pos,
    ipv4: ['0.0.0.0/0'],
    ipv6: ['::/0'],
    builtin: 'internet',
  });
  const brokenEntities = new Set<string>();
  for (const def of entityDefs.values()) {
    brokenEntities.add(def.name);
    if (def.name === INTERNET) {
      diags.push(
        error(
          'reserved-name',
          `"${INTERNET}" is built in (every address outside the targets' internal ranges) and cannot be redefined`,
          def.pos,
        ),
      );
      continue;
    }
    if (def.name.startsWith('tier:')) continue; // the schema's name pattern reports it
    const e = parseEntity(def, diags);
    if (e) entities.set(def.name, e);
    if (e) brokenEntities.delete(def.name);
  }

  // 5. Targets.
  const targets = new Map<string, TargetSpec>();
  for (const def of targetDefs.values()) {
    const t = parseTarget(def, diags);
    if (t) targets.set(def.name, t);
  }

  // Two targets on the same cloud objects would fight over them (a perpetual diff at best).
  const places = new Map<string, TargetSpec>();
  for (const t of targets.values()) {
    const where = getTarget(t.kind)!.place(configOf(t));
    const prev = places.get(where);
    if (prev) {
      diags.push(
        error(
          'target-conflict',
          `targets "${prev.name}" and "${t.name}" both manage the ${where}: one target per set of cloud objects`,
          t.pos,
          [{ message: `target "${prev.name}"`, pos: prev.pos }],
        ),
      );
    } else places.set(where, t);
  }

  // 6. Tiers: every member is a segment, a segment is in one tier at most.
  const tiers = new Map<string, TierDef>();
  const tierOf = new Map<string, { tier: string; pos: SourcePos }>();
  for (const def of tierDefs.values()) {
    const members = new Set<string>();
    for (const item of itemsOf(def.node)) {
      const seg = strOf(item);
      if (seg === undefined) continue;
      if (!segmentDefs.has(seg)) {
        diags.push(
          error(
            'unknown-reference',
            `tier "${def.name}" lists "${seg}", which is not a segment${didYouMean(seg, segmentDefs.keys())}`,
            item.pos,
          ),
        );
        continue;
      }
      const prev = tierOf.get(seg);
      if (prev && prev.tier !== def.name) {
        diags.push(
          error('tier-conflict', `segment "${seg}" is in two tiers, "${prev.tier}" and "${def.name}"`, item.pos, [
            { message: `"${seg}" in tier "${prev.tier}"`, pos: prev.pos },
          ]),
        );
        continue;
      }
      tierOf.set(seg, { tier: def.name, pos: item.pos });
      members.add(seg);
    }
    tiers.set(def.name, { name: def.name, pos: def.pos, segments: [...members].sort() });
  }

  // 7. References.
  const resolver = makeResolver(segmentDefs, entities, tiers, diags, isPack, brokenEntities);

  // 8. Segments and their flows.
  const segments = new Map<string, SegmentDef>();
  const nameLimit = managedNameLimit();
  const cloudUses: { entity: string; pos: SourcePos }[] = [];
  const fqdnUses: { entity: string; pos: SourcePos }[] = [];
  for (const def of segmentDefs.values()) {
    const flows: FlowDef[] = [];
    for (const direction of ['ingress', 'egress'] as const) {
      const peerKey = direction === 'ingress' ? 'from' : 'to';
      for (const item of itemsOf(entry(def.node, direction)?.value)) {
        if (item.kind !== 'map') continue; // schema
        const peersNode = entry(item, peerKey)?.value;
        const peers: FlowDef['peers'][number][] = [];
        for (const p of itemsOf(peersNode)) {
          const ref = resolver(p, direction === 'ingress' ? 'source' : 'destination');
          if (!ref) continue;
          peers.push({ ref, pos: p.pos });
          if (ref.kind === 'entity') {
            const ent = entities.get(ref.name);
            if (ent?.kind === 'cloud') cloudUses.push({ entity: ref.name, pos: p.pos });
            if (ent?.kind === 'fqdns') fqdnUses.push({ entity: ref.name, pos: p.pos });
          }
        }
        if (peersNode && itemsOf(peersNode).length === 0)
          diags.push(error('empty-list', `"${peerKey}" is empty: name at least one peer`, peersNode.pos));
        const portsNode = entry(item, 'ports')?.value;
        const svc = expandPorts(portsNode, services, diags);
        flows.push({ direction, peers: fit(peers), services: fit(svc), pos: item.pos });
      }
    }
    const tier = tierOf.get(def.name)?.tier;
    segments.set(def.name, {
      name: def.name,
      pos: def.pos,
      ...(tier !== undefined ? { tier } : {}),
      ...segmentOverrides(def.name, def.node, diags),
      flows: fit(flows),
    } as SegmentDef);
    if (name !== undefined && nameLimit && name.length + 1 + def.name.length > nameLimit.max) {
      diags.push(
        error(
          'name-too-long',
          `"${name}-${def.name}" is longer than ${nameLimit.max} characters (${nameLimit.why}); shorten the model or segment name`,
          def.pos,
        ),
      );
    }
  }

  // The providers' checks across segments (two segments adopting one cloud object …).
  for (const d of targetDescriptors()) if (d.checkSegments) diags.push(...d.checkSegments([...segments.values()]));
  // The providers' checks of target configs that name segments or tiers (Azure's `nsgs`).
  if (targets.size > 0) {
    const segmentPos = new Map([...segments.values()].map((s) => [s.name, s.pos] as const));
    const tierSegments = new Map([...tiers.values()].map((t) => [t.name, t.segments] as const));
    for (const t of targets.values()) {
      const d = getTarget(t.kind) as TargetDescriptor | undefined;
      if (d?.checkTarget)
        diags.push(
          ...d.checkTarget(configOf(t), { name: t.name, pos: t.pos, segments: segmentPos, tiers: tierSegments }),
        );
    }
  }

  // 9. Per-cloud entities need a binding for every target's cloud; FQDN egress needs a firewall policy.
  for (const use of cloudUses) {
    const ent = entities.get(use.entity);
    if (ent?.kind !== 'cloud') continue;
    for (const t of [...targets.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (!(ent as CloudBindings)[t.kind]) {
        diags.push(
          error(
            'missing-cloud-binding',
            `entity "${ent.name}" has no ${t.kind} binding, but target "${t.name}" is on ${t.kind}`,
            use.pos,
            [
              { message: `target "${t.name}"`, pos: t.pos },
              { message: `entity "${ent.name}"`, pos: ent.pos },
            ],
          ),
        );
      }
    }
  }
  if (fqdnUses.length > 0) {
    for (const t of targets.values()) {
      const problem = getTarget(t.kind)!.fqdnEgressProblem?.(configOf(t));
      if (problem !== undefined) {
        diags.push(
          warning(
            'fqdn-without-firewall-policy',
            `target "${t.name}" ${problem}`,
            t.pos,
            fqdnUses.slice(0, 3).map((u) => ({ message: `FQDN egress to "${u.entity}"`, pos: u.pos })),
          ),
        );
      }
    }
  }

  // 10. Guardrails, from every file.
  const guardrails: GuardrailDef[] = [];
  const guardrailNames = new Map<string, SourcePos>();
  for (const f of files) {
    for (const item of itemsOf(entry(f.root!, 'guardrails')?.value)) {
      if (item.kind !== 'map') continue;
      const before = diags.length;
      const g = parseGuardrail(item, resolver, services, entities, diags);
      if (!g) continue;
      const complete = !hasErrors(diags.slice(before));
      const prev = guardrailNames.get(g.name);
      if (prev) {
        diags.push(
          error('duplicate-definition', `guardrail "${g.name}" is defined twice`, g.pos, [
            { message: `first definition of guardrail "${g.name}"`, pos: prev },
          ]),
        );
        continue;
      }
      guardrailNames.set(g.name, g.pos);
      if (complete) guardrails.push(g);
    }
  }

  return {
    model: {
      formatVersion: 1,
      kind: isPack ? 'pack' : 'model',
      name: name ?? '',
      file: rootFile.file,
      files: loaded.files.map((f) => f.file),
      targets,
      services: new Map([...services].flatMap(([k, v]) => (v ? [[k, v] as const] : []))),
      entities,
      tiers,
      segments,
      guardrails,
      ignoreWarnings: itemsOf(entry(root, 'ignoreWarnings')?.value).flatMap((n) => (isStr(n) ? [n.value.trim()] : [])),
    },
    diagnostics: diags,
  };
}

function checkVersion(f: LoadedFile, diags: Diagnostic[]): void {
  const e = entry(f.root!, 'bulkhead');
  if (!e) {
    if (f.root!.kind === 'map')
      diags.push(
        error('missing-version', 'the file does not say its format version: add "bulkhead: 1" at the top', f.root!.pos),
      );
    return;
  }
  const v = e.value.kind === 'scalar' ? e.value.value : undefined;
  if (typeof v === 'number' && SUPPORTED_VERSIONS.includes(v)) return;
  if (typeof v === 'string' && SUPPORTED_VERSIONS.map(String).includes(v.trim())) {
    // A quoted version is a string: the schema says a number, and a tool reading the file with
    // another YAML or JSON parser would disagree with us about what it is.
    diags.push(
      error(
        'unsupported-version',
        `format version ${JSON.stringify(v)} is a string: write the number, "bulkhead: ${v.trim()}" without quotes`,
        e.value.pos,
      ),
    );
    return;
  }
  diags.push(
    error(
      'unsupported-version',
      `format version ${JSON.stringify(v ?? null)} is not supported: this Bulkhead reads version ${SUPPORTED_VERSIONS.join(', ')} ("bulkhead: 1")`,
      e.value.pos,
    ),
  );
}

/** Expands named services (recursively, with cycle detection); undefined for a broken service. */
function resolveServices(
  defs: ReadonlyMap<string, Def<ServiceDef>>,
  diags: Diagnostic[],
): Map<string, ServiceDef | undefined> {
  const done = new Map<string, ServiceDef | undefined>();
  const resolve = (def: Def<ServiceDef>, stack: string[]): ServiceDef | undefined => {
    if (done.has(def.name)) return done.get(def.name);
    if (stack.includes(def.name)) return undefined;
    const matches: PortMatch[] = [];
    let ok = true;
    if ((PROTOCOL_KEYWORDS as readonly string[]).includes(def.name.toLowerCase())) {
      diags.push(error('reserved-name', `"${def.name}" is a protocol keyword and cannot name a service`, def.pos));
      ok = false;
    }
    const items = itemsOf(def.node);
    if (items.length === 0 && def.node.kind !== 'map') {
      diags.push(error('empty-list', `service "${def.name}" names no ports`, def.node.pos));
      ok = false;
    }
    for (const item of items) {
      if (
        item.kind !== 'scalar' ||
        !(typeof item.value === 'string' || (typeof item.value === 'number' && Number.isInteger(item.value)))
      )
        continue; // the schema reports other types
      const p = parseService(item.value);
      if (p.kind === 'error') {
        diags.push(error(p.code, p.message, item.pos));
        ok = false;
      } else if (p.kind === 'match') {
        matches.push(p.match);
      } else {
        const ref = defs.get(p.name);
        if (!ref) {
          diags.push(
            error(
              'unknown-service',
              `unknown service "${p.name}"${didYouMean(p.name, [...defs.keys(), ...PROTOCOL_KEYWORDS])}`,
              item.pos,
            ),
          );
          ok = false;
        } else if ([...stack, def.name].includes(p.name)) {
          diags.push(
            error(
              'service-cycle',
              `service "${def.name}" refers back to itself: ${[...stack.slice(stack.indexOf(p.name)), def.name, p.name].join(' -> ')}`,
              item.pos,
            ),
          );
          ok = false;
        } else {
          const sub = resolve(ref, [...stack, def.name]);
          if (sub) matches.push(...sub.matches);
          else ok = false;
        }
      }
    }
    const value = ok ? { name: def.name, pos: def.pos, matches: dedupeMatches(matches) } : undefined;
    done.set(def.name, value);
    return value;
  };
  for (const def of defs.values()) resolve(def, []);
  return done;
}

/** Sorted, unique matches. */
export function dedupeMatches(matches: readonly PortMatch[]): PortMatch[] {
  const seen = new Set<string>();
  const out: PortMatch[] = [];
  for (const m of [...matches].sort(comparePortMatch)) {
    const k = JSON.stringify(m);
    if (!seen.has(k)) {
      seen.add(k);
      out.push(m);
    }
  }
  return out;
}

/** Expands a `ports` node (one item or a list; literals or service names) into positioned matches. */
function expandPorts(
  node: YNode | undefined,
  services: ReadonlyMap<string, ServiceDef | undefined>,
  diags: Diagnostic[],
): { match: PortMatch; pos: SourcePos }[] {
  const out: { match: PortMatch; pos: SourcePos }[] = [];
  if (!node) return out;
  const items = itemsOf(node);
  if (items.length === 0)
    diags.push(error('empty-list', '"ports" is empty: name at least one service (or "all")', node.pos));
  for (const item of items) {
    if (
      item.kind !== 'scalar' ||
      !(typeof item.value === 'string' || (typeof item.value === 'number' && Number.isInteger(item.value)))
    )
      continue; // the schema reports other types
    if (typeof item.value === 'number' && item.value > 255) {
      diags.push(
        error(
          'bad-service',
          `${item.value} is not a service: write a protocol with the port, like tcp/${item.value} or udp/${item.value}`,
          item.pos,
        ),
      );
      continue;
    }
    const p = parseService(item.value);
    if (p.kind === 'error') diags.push(error(p.code, p.message, item.pos));
    else if (p.kind === 'match') out.push({ match: p.match, pos: item.pos });
    else if (!services.has(p.name)) {
      diags.push(
        error(
          'unknown-service',
          `unknown service "${p.name}"${didYouMean(p.name, [...services.keys(), ...PROTOCOL_KEYWORDS])}`,
          item.pos,
        ),
      );
    } else {
      const svc = services.get(p.name);
      if (svc) for (const m of svc.matches) out.push({ match: m, pos: item.pos });
    }
  }
  return out;
}

function parseCidrList(
  node: YNode | undefined,
  owner: string,
  diags: Diagnostic[],
): { ipv4: string[]; ipv6: string[] } {
  const ipv4: string[] = [],
    ipv6: string[] = [];
  for (const item of itemsOf(node)) {
    if (!isStr(item)) continue; // schema
    const c = parseCidr(item.value);
    if (c.kind === 'error') diags.push(error('bad-cidr', `${owner}: ${c.message}`, item.pos));
    else if (c.kind === 'host-bits') {
      diags.push(
        error(
          'cidr-host-bits',
          `${owner}: "${item.value}" has host bits set; write ${c.network} for the network or ${c.host} for the host`,
          item.pos,
        ),
      );
    } else (c.family === 'ipv4' ? ipv4 : ipv6).push(c.cidr);
  }
  return { ipv4: sortCidrs(ipv4), ipv6: sortCidrs(ipv6) };
}

/** The strictest managed-name limit of the registered providers (a model stays portable to all of them). */
function managedNameLimit(): { readonly max: number; readonly why: string } | undefined {
  let best: { readonly max: number; readonly why: string } | undefined;
  for (const d of targetDescriptors())
    if (d.managedNameLimit && (!best || d.managedNameLimit.max < best.max)) best = d.managedNameLimit;
  return best;
}

/** A YAML mapping as a ConfigReader, reporting into `diags`. */
function configReader(node: YNode, diags: Diagnostic[]): ConfigReader {
  return {
    string: (key) => strOf(entry(node, key)?.value),
    value: (key) => {
      const v = entry(node, key)?.value;
      return v === undefined ? undefined : toPlain(v);
    },
    has: (key) => entry(node, key) !== undefined,
    pos: (key) => entry(node, key)?.value.pos ?? node.pos,
    posAt: (path) => {
      let at: YNode = node;
      for (const step of path) {
        const next: YNode | undefined =
          typeof step === 'number' ? (at.kind === 'seq' ? at.items[step] : undefined) : entry(at, step)?.value;
        if (next === undefined) break;
        at = next;
      }
      return at.pos;
    },
    report: (d) => diags.push(d),
  };
}

/** The string values of `keys` in a mapping, in that order (the default reading of a provider's binding keys). */
function stringFields(node: YNode, keys: readonly string[] | undefined): Record<string, string> {
  return Object.fromEntries(
    (keys ?? []).flatMap((k) => {
      const v = strOf(entry(node, k)?.value);
      return v === undefined ? [] : [[k, v] as [string, string]];
    }),
  );
}

/** A segment's per-provider overrides (`<id>: { … }`), each read by its provider, keys in the provider's order. */
function segmentOverrides(name: string, node: YNode, diags: Diagnostic[]): SegmentOverrides {
  const out: Record<string, Readonly<Record<string, unknown>>> = {};
  for (const d of targetDescriptors()) {
    const o = entry(node, d.id)?.value;
    if (o?.kind !== 'map') continue;
    const fields = d.parseSegmentBinding
      ? d.parseSegmentBinding(configReader(o, diags), { segment: name })
      : stringFields(o, d.segmentBindingKeys);
    if (fields && Object.keys(fields).length > 0) out[d.id] = fields;
  }
  return out as SegmentOverrides;
}

function parseBinding(
  d: TargetDescriptor,
  entity: string,
  node: YNode,
  owner: string,
  diags: Diagnostic[],
): CloudBinding | undefined {
  if (node.kind !== 'map') return undefined;
  const { ipv4, ipv6 } = parseCidrList(entry(node, 'cidrs')?.value, owner, diags);
  const fields = d.parseEntityBinding
    ? d.parseEntityBinding(configReader(node, diags), { entity })
    : stringFields(node, d.entityBindingKeys);
  if (Object.keys(fields).length === 0 && !entry(node, 'cidrs')) {
    const what = [...(d.entityBindingKeys ?? []), 'cidrs'].map((k) => `"${k}"`).join(' or ');
    diags.push(error('empty-binding', `${owner}: the ${d.id} binding needs ${what}`, node.pos));
    return undefined;
  }
  // The provider's own keys first, then the CIDRs: the order the RuleSet's JSON keeps.
  const { ipv4: _4, ipv6: _6, ...own } = fields;
  return { ...own, ipv4, ipv6 };
}

function parseEntity(def: Def<EntityDef>, diags: Diagnostic[]): EntityDef | undefined {
  const n = def.node;
  if (n.kind !== 'map') return undefined; // schema
  const owner = `entity "${def.name}"`;
  const has = (k: string) => entry(n, k) !== undefined;
  const clouds = targetDescriptors();
  const kinds = [
    has('cidrs') && 'cidrs',
    has('fqdns') && 'fqdns',
    clouds.some((d) => has(d.id)) && 'per-cloud bindings',
  ].filter(Boolean);
  if (kinds.length !== 1) {
    diags.push(
      error(
        'entity-kind',
        kinds.length === 0
          ? `${owner} needs "cidrs", "fqdns" or per-cloud bindings (${clouds.map((d) => d.id).join('/')})`
          : `${owner} mixes ${kinds.join(' and ')}: an entity is one kind; split it in two`,
        def.pos,
      ),
    );
    return undefined;
  }
  if (has('cidrs')) {
    const node = entry(n, 'cidrs')!.value;
    if (itemsOf(node).length === 0) diags.push(error('empty-list', `${owner} lists no CIDRs`, node.pos));
    return { kind: 'cidrs', name: def.name, pos: def.pos, ...parseCidrList(node, owner, diags) };
  }
  if (has('fqdns')) {
    const node = entry(n, 'fqdns')!.value;
    const fqdns = new Set<string>();
    if (itemsOf(node).length === 0) diags.push(error('empty-list', `${owner} lists no FQDNs`, node.pos));
    for (const item of itemsOf(node)) {
      if (!isStr(item)) continue;
      const f = parseFqdn(item.value);
      if (f.kind === 'error') diags.push(error(f.code, `${owner}: ${f.message}`, item.pos));
      else fqdns.add(f.fqdn);
    }
    return { kind: 'fqdns', name: def.name, pos: def.pos, fqdns: [...fqdns].sort() };
  }
  const out: Record<string, CloudBinding> = {};
  for (const d of clouds) {
    const b = entry(n, d.id);
    if (!b) continue;
    const binding = parseBinding(d, def.name, b.value, `${owner} (${d.id})`, diags);
    if (binding) out[d.id] = binding;
  }
  return { kind: 'cloud', name: def.name, pos: def.pos, ...(out as CloudBindings) };
}

function parseTarget(def: Def<TargetSpec>, diags: Diagnostic[]): TargetSpec | undefined {
  const n = def.node;
  if (n.kind !== 'map') return undefined;
  const all = targetDescriptors();
  const clouds = all.filter((d) => entry(n, d.id));
  if (clouds.length !== 1) {
    const ids = all.map((d) => `"${d.id}"`);
    diags.push(
      error(
        'target-cloud',
        clouds.length === 0
          ? `target "${def.name}" names no cloud: give it one of ${ids.length > 1 ? `${ids.slice(0, -1).join(', ')} or ${ids[ids.length - 1]}` : ids.join('')}`
          : `target "${def.name}" names ${clouds.map((d) => d.id).join(' and ')}: a target is on one cloud; make one target per cloud`,
        def.pos,
      ),
    );
    return undefined;
  }
  const d = clouds[0]!;
  const c = entry(n, d.id)!.value;
  if (c.kind !== 'map') return undefined;
  // Every cloud's config may give the network's internal ranges: what `internet` is outside of.
  const rangesNode = entry(c, 'internalRanges')?.value;
  let internalRanges: readonly string[] | undefined;
  if (rangesNode) {
    const r = parseCidrList(rangesNode, `target "${def.name}" internalRanges`, diags);
    internalRanges = [...r.ipv4, ...r.ipv6];
    if (itemsOf(rangesNode).length === 0)
      diags.push(error('empty-list', `target "${def.name}": internalRanges is empty`, rangesNode.pos));
  }
  const config = d.parse(configReader(c, diags), { name: def.name, internalRanges });
  return config === undefined ? undefined : (targetOf(d.id, def.name, def.pos, config) as TargetSpec);
}

/** Resolves a reference node; reports unknown, ambiguous and misplaced references. */
type Resolver = (node: YNode, role: 'source' | 'destination' | 'protected') => PeerRef | undefined;

function makeResolver(
  segments: ReadonlyMap<string, unknown>,
  entities: ReadonlyMap<string, EntityDef>,
  tiers: ReadonlyMap<string, TierDef>,
  diags: Diagnostic[],
  isPack = false,
  broken: ReadonlySet<string> = new Set(),
): Resolver {
  const segmentRefs = new Map<string, PeerRef & { kind: 'segment' }>();
  return (node, role) => {
    const raw = strOf(node);
    if (raw === undefined) return undefined; // schema
    const text = raw.trim();
    // A name already resolved to a segment resolves the same way in any role (no diagnostic).
    const known = segmentRefs.get(text);
    if (known) return known;
    if (text.startsWith('tier:')) {
      const t = text.slice(5);
      const tier = tiers.get(t);
      if (!tier && isPack) return { kind: 'tier', name: t, segments: [] };
      if (!tier) {
        const hint = segments.has(t)
          ? `; "${t}" is a segment: write "${t}"`
          : didYouMean(t, tiers.keys()).replace(/"([^"]+)"/g, '"tier:$1"');
        diags.push(error('unknown-reference', `unknown tier "${t}"${hint}`, node.pos));
        return undefined;
      }
      return { kind: 'tier', name: t, segments: tier.segments };
    }
    const isSeg = segments.has(text),
      ent = entities.get(text);
    if (isSeg && ent) {
      diags.push(
        error('ambiguous-reference', `"${text}" is both a segment and an entity; rename one of them`, node.pos, [
          { message: `entity "${text}"`, pos: ent.pos },
        ]),
      );
      return undefined;
    }
    if (isSeg) {
      // One reference object per segment name, shared by every flow naming it (PeerRefs are
      // read-only): a large model names each segment ~20 times.
      let ref = segmentRefs.get(text);
      if (!ref) segmentRefs.set(text, (ref = { kind: 'segment', name: text }));
      return ref;
    }
    if (ent) {
      if (ent.kind === 'fqdns' && role === 'source') {
        diags.push(
          error(
            'fqdn-source',
            `entity "${text}" is a set of FQDNs and cannot be a source: clouds match a packet's source by address, not by name; use a "cidrs" entity`,
            node.pos,
            [{ message: `entity "${text}"`, pos: ent.pos }],
          ),
        );
        return undefined;
      }
      if (role === 'protected') {
        diags.push(error('bad-guardrail', `"${text}" is an entity: "only.to" must name segments or tiers`, node.pos));
        return undefined;
      }
      return { kind: 'entity', name: text };
    }
    // An entity that is defined but invalid has its own error already; no second one here.
    if (broken.has(text)) return undefined;
    if (isPack) return { kind: 'segment', name: text };
    if (tiers.has(text)) {
      diags.push(
        error(
          'unknown-reference',
          `"${text}" is a tier, not a segment or entity; did you mean "tier:${text}"?`,
          node.pos,
        ),
      );
      return undefined;
    }
    const candidates = [...segments.keys(), ...entities.keys(), ...[...tiers.keys()].map((t) => `tier:${t}`)];
    const best = closest(text, candidates, 2);
    const hint = best.length > 0 ? `; did you mean ${best.map((b) => `"${b}"`).join(' or ')}?` : '';
    diags.push(
      error(
        'unknown-reference',
        `unknown reference "${text}": no segment, entity or tier has this name${hint}`,
        node.pos,
      ),
    );
    return undefined;
  };
}

function side(
  node: YNode | undefined,
  resolver: Resolver,
  role: 'source' | 'destination' | 'protected',
  diags: Diagnostic[],
): GuardrailSide {
  const refs: { ref: PeerRef; pos: SourcePos }[] = [];
  if (node && itemsOf(node).length === 0)
    diags.push(error('empty-list', 'the list is empty: name at least one segment, tier or entity', node.pos));
  for (const item of itemsOf(node)) {
    const ref = resolver(item, role);
    if (ref) refs.push({ ref, pos: item.pos });
  }
  return { refs };
}

function parseGuardrail(
  item: YNode,
  resolver: Resolver,
  services: ReadonlyMap<string, ServiceDef | undefined>,
  entities: ReadonlyMap<string, EntityDef>,
  diags: Diagnostic[],
): GuardrailDef | undefined {
  const name = strOf(entry(item, 'name')?.value);
  if (name === undefined) return undefined; // schema: required
  const deny = entry(item, 'deny'),
    only = entry(item, 'only');
  if ((deny ? 1 : 0) + (only ? 1 : 0) !== 1) {
    diags.push(error('guardrail-kind', `guardrail "${name}" needs exactly one of "deny" or "only"`, item.pos));
    return undefined;
  }
  if (deny) {
    const from = side(entry(deny.value, 'from')?.value, resolver, 'source', diags);
    const to = side(entry(deny.value, 'to')?.value, resolver, 'destination', diags);
    const portsNode = entry(deny.value, 'ports')?.value;
    const services_ = portsNode
      ? dedupeMatches(expandPorts(portsNode, services, diags).map((s) => s.match))
      : [{ kind: 'all' } as const];
    const external = (s: GuardrailSide) => s.refs.length > 0 && s.refs.every((r) => r.ref.kind === 'entity');
    if (external(from) && external(to)) {
      diags.push(
        error(
          'bad-guardrail',
          `guardrail "${name}": "from" and "to" both name entities; a guardrail constrains flows of the model's segments, so one side must be a segment or tier (or left out for all)`,
          deny.keyPos,
        ),
      );
    }
    void entities;
    return { kind: 'deny', name, pos: item.pos, from, to, services: services_ };
  }
  const o = only!;
  const toNode = entry(o.value, 'to')?.value,
    fromNode = entry(o.value, 'from')?.value;
  const to = side(toNode, resolver, 'protected', diags);
  const from = side(fromNode, resolver, 'source', diags);
  return { kind: 'only', name, pos: item.pos, to, from };
}
