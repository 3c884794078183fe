import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { FIXTURES } from '../fixtures.js';

/**
 * A request-body checker for the vendor's Swagger 2.0 (OpenAPI) descriptions of the Azure network
 * API in `test/fixtures/vendor/azure`: it resolves `$ref`s across files, merges `allOf`, follows
 * `discriminator`s, and reports what the real ARM front door would reject: missing `required`
 * properties, values outside an `enum`, wrong JSON types, numbers outside `minimum`/`maximum`,
 * `readOnly` properties sent in a request, and properties the schema does not define.
 *
 * Hand-written because ajv speaks JSON Schema, not Swagger 2.0 with `x-ms-discriminator-value`
 * polymorphism and cross-file refs; the rules checked here are the few that matter for requests.
 */

/** Root of the Azure vendor fixtures (`test/fixtures/vendor/azure`). */
export const AZURE_FIXTURES = join(FIXTURES, 'azure');

type Schema = { readonly [key: string]: unknown };

/**
 * Definitions the three fixture files reference in sibling files that are not in the fixtures
 * (`./network.json` of 2025-05-01 and `./common.json` of 2026-07-01). Transcribed from
 * Azure/azure-rest-api-specs (network.json @ 512f1837, the definitions below copied with their
 * types, readOnly flags and enums; the common.json enums match the SDK's `Known*` values for the
 * same names in @azure/arm-network 36). Only what the fixture files reference is here.
 */
const EXTERNAL_DEFINITIONS: Record<string, Record<string, Schema>> = {
  'network.json': {
    Resource: {
      properties: {
        id: { type: 'string' },
        name: { readOnly: true, type: 'string' },
        type: { readOnly: true, type: 'string' },
        location: { type: 'string' },
        tags: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    SubResource: { properties: { id: { type: 'string' } } },
    TagsObject: { properties: { tags: { type: 'object', additionalProperties: { type: 'string' } } } },
    ProvisioningState: { type: 'string', readOnly: true, enum: ['Succeeded', 'Updating', 'Deleting', 'Failed'] },
    CloudError: { properties: { error: { type: 'object' } } },
  },
  'common.json': {
    Resource: {
      properties: {
        id: { type: 'string' },
        name: { readOnly: true, type: 'string' },
        type: { readOnly: true, type: 'string' },
        location: { type: 'string' },
        tags: { type: 'object', additionalProperties: { type: 'string' } },
      },
    },
    SubResource: { properties: { id: { type: 'string' } } },
    SubResourceModel: {
      properties: { id: { type: 'string' }, name: { type: 'string' }, type: { readOnly: true, type: 'string' } },
    },
    TagsObject: { properties: { tags: { type: 'object', additionalProperties: { type: 'string' } } } },
    ProvisioningState: { type: 'string', readOnly: true, enum: ['Succeeded', 'Updating', 'Deleting', 'Failed'] },
    CloudError: { properties: { error: { type: 'object' } } },
    FirewallPolicyRuleCollectionType: {
      type: 'string',
      enum: ['FirewallPolicyNatRuleCollection', 'FirewallPolicyFilterRuleCollection'],
    },
    FirewallPolicyRuleType: { type: 'string', enum: ['ApplicationRule', 'NetworkRule', 'NatRule'] },
    FirewallPolicyFilterRuleCollectionActionType: { type: 'string', enum: ['Allow', 'Deny'] },
    FirewallPolicyNatRuleCollectionActionType: { type: 'string', enum: ['DNAT'] },
    FirewallPolicyRuleApplicationProtocolType: { type: 'string', enum: ['Http', 'Https', 'Mssql'] },
    FirewallPolicyRuleNetworkProtocol: { type: 'string', enum: ['TCP', 'UDP', 'Any', 'ICMP'] },
  },
};

interface SchemaDoc {
  readonly file: string;
  readonly definitions: Record<string, Schema>;
}

/** A resolved schema and the file its own local `#/definitions/…` refs point into. */
interface Located {
  readonly schema: Schema;
  readonly file: string;
  /** The definition's name when the schema is a named definition. */
  readonly name?: string;
}

/** Loads the fixture specs and checks request bodies against their definitions. */
export class SwaggerValidator {
  readonly #docs = new Map<string, SchemaDoc>();

  constructor(root: string = AZURE_FIXTURES) {
    for (const rel of [
      '2025-05-01/networkSecurityGroup.json',
      '2025-05-01/applicationSecurityGroup.json',
      '2026-07-01/firewallPolicy.json',
    ]) {
      const json = JSON.parse(readFileSync(join(root, rel), 'utf8')) as { definitions: Record<string, Schema> };
      this.#docs.set(rel, { file: rel, definitions: json.definitions });
    }
    for (const dir of ['2025-05-01', '2026-07-01']) {
      this.#docs.set(`${dir}/network.json`, {
        file: `${dir}/network.json`,
        definitions: EXTERNAL_DEFINITIONS['network.json']!,
      });
      this.#docs.set(`${dir}/common.json`, {
        file: `${dir}/common.json`,
        definitions: EXTERNAL_DEFINITIONS['common.json']!,
      });
    }
  }

  /** Violations of `body` against definition `definition` of spec file `file` (e.g. `2025-05-01/networkSecurityGroup.json`). */
  validateRequest(file: string, definition: string, body: unknown): string[] {
    const out: string[] = [];
    this.#check(this.#resolve({ $ref: `#/definitions/${definition}` }, file), body, '$', out);
    return out;
  }

  #resolve(schema: Schema, file: string): Located {
    let current: Located = { schema, file };
    for (let i = 0; i < 20 && typeof current.schema['$ref'] === 'string'; i++) {
      const ref = current.schema['$ref'] as string;
      const [path, pointer] = ref.split('#') as [string, string];
      const target = path === '' ? current.file : join(dirname(current.file), path);
      const doc = this.#docs.get(target);
      const name = pointer.replace(/^\/definitions\//, '');
      const def = doc?.definitions[name];
      if (!doc || !def) throw new Error(`swagger: unresolved $ref ${ref} from ${current.file}`);
      // Sibling keys of a $ref (readOnly, description) stay in force for the property.
      const readOnly = current.schema['readOnly'] === true;
      current = { schema: readOnly ? { ...def, readOnly: true } : def, file: doc.file, name };
    }
    return current;
  }

  /** Properties and required names of a schema with its `allOf` parents merged in. */
  #flatten(loc: Located): { properties: Map<string, Located>; required: Set<string>; additional: Located | null } {
    const properties = new Map<string, Located>();
    const required = new Set<string>();
    let additional: Located | null = null;
    const visit = (l: Located) => {
      const s = l.schema;
      for (const parent of (s['allOf'] as Schema[] | undefined) ?? []) visit(this.#resolve(parent, l.file));
      for (const [k, v] of Object.entries((s['properties'] as Record<string, Schema> | undefined) ?? {})) {
        properties.set(k, { schema: v, file: l.file });
      }
      for (const r of (s['required'] as string[] | undefined) ?? []) required.add(r);
      if (s['additionalProperties'] && typeof s['additionalProperties'] === 'object') {
        additional = { schema: s['additionalProperties'] as Schema, file: l.file };
      }
    };
    visit(loc);
    return { properties, required, additional };
  }

  /** The subtype of a polymorphic base that `value` names in its discriminator property. */
  #discriminate(loc: Located, value: Record<string, unknown>, path: string, out: string[]): Located {
    const key = loc.schema['discriminator'];
    if (typeof key !== 'string') return loc;
    const tag = value[key];
    const doc = this.#docs.get(loc.file)!;
    for (const [name, def] of Object.entries(doc.definitions)) {
      const parents = (def['allOf'] as Schema[] | undefined) ?? [];
      // A subtype names its base in `allOf` with a local ref (`#/definitions/<base>`).
      const extendsBase = parents.some((p) => p['$ref'] === `#/definitions/${loc.name ?? ''}`);
      const discriminatorValue = (def['x-ms-discriminator-value'] as string | undefined) ?? name;
      if (extendsBase && discriminatorValue === tag) return { schema: def, file: loc.file, name };
    }
    out.push(`${path}.${key}: ${JSON.stringify(tag)} names no subtype of the polymorphic type`);
    return loc;
  }

  #check(loc0: Located, value: unknown, path: string, out: string[]): void {
    const loc = this.#resolve(loc0.schema, loc0.file);
    const s = loc.schema;
    if (value === null || value === undefined) return;
    const enumValues = s['enum'] as unknown[] | undefined;
    if (enumValues && !enumValues.includes(value)) {
      out.push(`${path}: ${JSON.stringify(value)} is not one of ${JSON.stringify(enumValues)}`);
    }
    const type = s['type'] as string | undefined;
    const isObjectSchema = type === 'object' || s['properties'] !== undefined || s['allOf'] !== undefined;
    if (type === 'string' && typeof value !== 'string')
      out.push(`${path}: expected a string, got ${JSON.stringify(value)}`);
    if (type === 'boolean' && typeof value !== 'boolean')
      out.push(`${path}: expected a boolean, got ${JSON.stringify(value)}`);
    if ((type === 'integer' || type === 'number') && typeof value !== 'number') {
      out.push(`${path}: expected a number, got ${JSON.stringify(value)}`);
    }
    if (type === 'integer' && typeof value === 'number' && !Number.isInteger(value))
      out.push(`${path}: expected an integer`);
    if (typeof value === 'number') {
      if (typeof s['minimum'] === 'number' && value < s['minimum'])
        out.push(`${path}: ${value} < minimum ${s['minimum']}`);
      if (typeof s['maximum'] === 'number' && value > s['maximum'])
        out.push(`${path}: ${value} > maximum ${s['maximum']}`);
    }
    if (typeof value === 'string' && typeof s['maxLength'] === 'number' && value.length > s['maxLength']) {
      out.push(`${path}: longer than maxLength ${s['maxLength']}`);
    }
    if (type === 'array') {
      if (!Array.isArray(value)) {
        out.push(`${path}: expected an array`);
        return;
      }
      const items = s['items'] as Schema | undefined;
      if (items) value.forEach((v, i) => this.#check({ schema: items, file: loc.file }, v, `${path}[${i}]`, out));
      return;
    }
    if (isObjectSchema) {
      if (typeof value !== 'object' || Array.isArray(value)) {
        out.push(`${path}: expected an object`);
        return;
      }
      const obj = value as Record<string, unknown>;
      const concrete = this.#discriminate(loc, obj, path, out);
      const { properties, required, additional } = this.#flatten(concrete);
      for (const r of required) if (obj[r] === undefined) out.push(`${path}.${r}: required property missing`);
      for (const [k, v] of Object.entries(obj)) {
        const prop = properties.get(k);
        if (!prop) {
          if (additional) this.#check(additional, v, `${path}.${k}`, out);
          else if (properties.size > 0) out.push(`${path}.${k}: property not defined by the schema`);
          continue;
        }
        const resolved = this.#resolve(prop.schema, prop.file);
        if (prop.schema['readOnly'] === true || resolved.schema['readOnly'] === true) {
          out.push(`${path}.${k}: read-only property sent in a request`);
          continue;
        }
        this.#check(prop, v, `${path}.${k}`, out);
      }
    }
  }
}
