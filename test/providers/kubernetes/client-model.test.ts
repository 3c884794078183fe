import { describe, expect, it } from 'vitest';
import { fromClientModel, toClientModel } from '../../../providers/kubernetes/client-model.js';

describe('the client-node boundary', () => {
  it("renames an ingress rule's from to the client's _from and back, and nothing else", () => {
    const json = {
      metadata: { name: 'x' },
      spec: {
        podSelector: {},
        ingress: [{ from: [{ podSelector: {} }], ports: [{ port: 80 }] }, { ports: [] }],
        egress: [{ to: [{ podSelector: {} }] }],
      },
    };
    const model = toClientModel(json) as unknown as {
      spec: { ingress: Record<string, unknown>[]; egress: Record<string, unknown>[] };
    };
    expect(Object.keys(model.spec.ingress[0]!).sort()).toEqual(['_from', 'ports']);
    expect(model.spec.ingress[1]).toEqual({ ports: [] });
    expect(model.spec.egress).toEqual(json.spec.egress);
    expect(fromClientModel(model)).toEqual(json);
  });
});
