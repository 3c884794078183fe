/**
 * The SDK boundary for NetworkPolicies. `@kubernetes/client-node`'s typed models name an ingress
 * rule's `from` `_from` (`from` is awkward in its generated TypeScript), and its serializer writes
 * only the attributes it knows by those names, silently dropping others: a plain-JSON `from` sent
 * through `createNamespacedNetworkPolicy` arrives as a rule without peers, which allows EVERY
 * source. The reverse happens on read (`from` comes back as `_from`). So every NetworkPolicy
 * crosses the boundary through these two functions, which rename exactly that field and nothing
 * else (all other NetworkPolicy field names are the same in both shapes; timestamps come back as
 * Date objects, which the canonical form ignores and the snapshot writer prints as kubectl does).
 */

type Obj = { [key: string]: unknown };

function mapIngress(np: unknown, from: string, to: string): unknown {
  if (!np || typeof np !== 'object') return np;
  const o = np as Obj;
  const spec = o['spec'] as Obj | undefined;
  const ingress = spec?.['ingress'];
  if (!Array.isArray(ingress)) return np;
  return {
    ...o,
    spec: {
      ...spec,
      ingress: ingress.map((rule: unknown) => {
        if (!rule || typeof rule !== 'object' || !(from in (rule as Obj))) return rule;
        const { [from]: peers, ...rest } = rule as Obj;
        return { ...rest, [to]: peers };
      }),
    },
  };
}

/** A NetworkPolicy in the API's JSON shape → the client's model (what its typed calls take). */
export function toClientModel<T>(np: T): T {
  return mapIngress(np, 'from', '_from') as T;
}

/** A NetworkPolicy as the client's typed calls return it → the API's JSON shape. */
export function fromClientModel(np: unknown): Obj {
  return mapIngress(np, '_from', 'from') as Obj;
}
