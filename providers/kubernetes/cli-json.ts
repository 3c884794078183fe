import type { Json, Resource } from '../../src/plan/types.js';
import { adminBody, ANP_TYPE } from './admin.js';
import { networkPolicyBody, NP_TYPE } from './canonical.js';
import { ciliumBody, CNP_TYPE } from './cilium.js';

/**
 * `bulkhead render --provider kubernetes --json`: the desired objects as a kubectl `List`, the
 * shape `kubectl get … -o json` prints and `kubectl apply -f` accepts; the bodies are the ones
 * apply sends (canonical.ts, cilium.ts, admin.ts), so what is printed is what is written.
 */
export function toKubernetesList(resources: readonly Resource[]): Json {
  const items = resources.map((r) => {
    if (r.type === NP_TYPE) return networkPolicyBody(r);
    if (r.type === CNP_TYPE) return ciliumBody(r);
    if (r.type === ANP_TYPE) return adminBody(r);
    return { kind: 'Unknown', metadata: { name: r.name } };
  });
  return { apiVersion: 'v1', kind: 'List', items: items as unknown as Json } as Json;
}
