import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createRenderShare } from '../../../providers/kit/render-share.js';
import { PROVIDERS } from '../../../providers/index.js';
import { compileFile } from '../../../src/compile/index.js';
import type { CloudId, RuleSet } from '../../../src/compile/types.js';
import type { RenderContext } from '../../../src/provider.js';

// Issue 11: a provider's validate renders to check its quotas, and the render that follows
// (`bulkhead render`, a plan without live state that matters) takes that render instead of
// making it again; the same objects either way.
describe('createRenderShare', () => {
  it('hands a value to the first take with an identical key, once', () => {
    const share = createRenderShare<string>();
    const a = {},
      b = {};
    share.put([a, b], 'x');
    expect(share.take([a, {}])).toBeUndefined();
    share.put([a, b], 'x');
    expect(share.take([a, b])).toBe('x');
    expect(share.take([a, b])).toBeUndefined();
    share.put([a, b, undefined], 'y');
    expect(share.take([a, b])).toBeUndefined();
  });
});

describe('validate, then render, renders once', () => {
  const ctx: RenderContext = {
    resolved: new Map([
      ['api.stripe.com', { ipv4: ['192.0.2.10/32'], ipv6: [] }],
      ['api.paypal.com', { ipv4: ['198.51.100.20/32'], ipv6: [] }],
    ]),
  };

  /** The RuleSet behind a proxy counting reads of `rules` (every render walks the intents). */
  function counted(rules: RuleSet): { rules: RuleSet; reads: () => number } {
    let n = 0;
    const proxy = new Proxy(rules, {
      get(t, k, r) {
        if (k === 'rules') n++;
        return Reflect.get(t, k, r);
      },
    });
    return { rules: proxy, reads: () => n };
  }

  it.each(['aws', 'azure', 'gcp'] as CloudId[])(
    "%s: the render after validate is validate's (and the same as a fresh one)",
    async (cloud) => {
      const r = await compileFile(resolve(import.meta.dirname, '../../../policies/shop.yaml'));
      if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
      const target = r.value.targets.find((t) => t.kind === cloud)!;
      const fresh = PROVIDERS[cloud]!().render(r.value, target, ctx);

      const renderOnly = counted(r.value);
      PROVIDERS[cloud]!().render(renderOnly.rules, target, ctx);
      const validateOnly = counted(r.value);
      PROVIDERS[cloud]!().validate(validateOnly.rules, target, ctx);

      const both = counted(r.value);
      const provider = PROVIDERS[cloud]!();
      provider.validate(both.rules, target, ctx);
      const shared = provider.render(both.rules, target, ctx);
      expect(shared).toEqual(fresh);
      expect(both.reads()).toBe(validateOnly.reads()); // the render cost no walk of its own
      expect(renderOnly.reads()).toBeGreaterThan(0);

      // Taken once: the next render is made anew (and is the same).
      const again = provider.render(both.rules, target, ctx);
      expect(again).not.toBe(shared);
      expect(again).toEqual(fresh);
      expect(both.reads()).toBe(validateOnly.reads() + renderOnly.reads());
    },
  );
});
