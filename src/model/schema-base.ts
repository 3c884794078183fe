import type { JsonSchema, TargetDescriptor } from '../provider.js';

/**
 * The provider-neutral part of the model's JSON Schema. The shipped schema (`schema.json`, the
 * package's `./schema`, what editors load through the yaml-language-server modeline) is this plus
 * each registered provider's fragments (TargetDescriptor.schema): assembled by `assembleModelSchema`
 * (schema-check.ts) at run time, and written to schema.json by `npm run schema:update`; a test
 * keeps the committed file equal to the assembly.
 *
 * Where the fragments go: `definitions.target.properties.<id>`, `definitions.entity.properties.<id>`
 * and `definitions.segment.properties.<id>`, after the keys below, in registry order. Fragments may
 * `$ref` `#/definitions/cidrs` and `#/definitions/internalRanges`.
 */
export const MODEL_SCHEMA_BASE: JsonSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/bulkhead/bulkhead/schema/model-v1.json',
  title: 'Bulkhead segment model (format version 1)',
  description: '(assembled: see modelSchemaDescription)',
  type: 'object',
  additionalProperties: false,
  patternProperties: {
    '^x-': {
      description:
        'Extension field, ignored: a place for YAML anchors (&name) to reuse with aliases (*name) and merge keys (<<).',
    },
  },
  required: ['bulkhead'],
  properties: {
    bulkhead: {
      description: 'Format version of the file.',
      const: 1,
    },
    name: {
      description:
        "The model's name: prefixes managed names (<name>-<segment>) and is the value of the ownership marker bulkhead:model.",
      $ref: '#/definitions/dnsName',
    },
    description: {
      type: 'string',
    },
    include: {
      description:
        'Files (relative to this one, inside the repository) whose services, entities and guardrails join the model.',
      oneOf: [
        {
          $ref: '#/definitions/path',
        },
        {
          type: 'array',
          items: {
            $ref: '#/definitions/path',
          },
        },
      ],
    },
    targets: {
      description: 'Where the model is enforced; a run may select some with --target.',
      type: 'object',
      propertyNames: {
        $ref: '#/definitions/targetName',
      },
      additionalProperties: {
        $ref: '#/definitions/target',
      },
    },
    services: {
      description:
        'Named port sets: tcp/443, tcp/9000-9010, udp/53, tcp, icmp, icmp/8, icmp/3/4, icmpv6, all, esp, ah, gre, a protocol number, or other service names.',
      type: 'object',
      propertyNames: {
        $ref: '#/definitions/simpleName',
      },
      additionalProperties: {
        $ref: '#/definitions/ports',
      },
    },
    entities: {
      description:
        'Things outside the model: CIDR sets, FQDN sets, or one logical entity bound per cloud. `internet` is built in.',
      type: 'object',
      propertyNames: {
        $ref: '#/definitions/simpleName',
      },
      additionalProperties: {
        $ref: '#/definitions/entity',
      },
    },
    tiers: {
      description: 'Named groups of segments; rules may name a tier as tier:<name>.',
      type: 'object',
      propertyNames: {
        $ref: '#/definitions/simpleName',
      },
      additionalProperties: {
        type: 'array',
        items: {
          type: 'string',
        },
      },
    },
    segments: {
      description: 'Default-deny in both directions: only what is written here flows.',
      type: 'object',
      propertyNames: {
        $ref: '#/definitions/dnsName',
      },
      additionalProperties: {
        $ref: '#/definitions/segment',
      },
    },
    ignoreWarnings: {
      description:
        'Warning codes (like unknown-region) this model does not want to see; errors cannot be silenced. Root model file only.',
      type: 'array',
      items: {
        type: 'string',
        minLength: 1,
      },
    },
    guardrails: {
      description: 'Org rules checked before anything is planned.',
      type: 'array',
      items: {
        $ref: '#/definitions/guardrail',
      },
    },
  },
  definitions: {
    path: {
      type: 'string',
      minLength: 1,
    },
    dnsName: {
      type: 'string',
      pattern: '^[a-z]([a-z0-9-]*[a-z0-9])?$',
      maxLength: 62,
      patternErrorMessage: "lower-case letters, digits and '-', starting with a letter, not ending with '-'",
    },
    targetName: {
      type: 'string',
      pattern: '^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?$',
      maxLength: 63,
      patternErrorMessage: "letters, digits, '_' and '-' (no '.': plan addresses are <target>.<type>.<name>)",
    },
    simpleName: {
      type: 'string',
      pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$',
      maxLength: 63,
      patternErrorMessage: "letters, digits, '.', '_' and '-', starting and ending with a letter or digit",
    },
    ref: {
      description: 'A segment, an entity, `internet`, or `tier:<name>`.',
      type: 'string',
      minLength: 1,
    },
    refs: {
      oneOf: [
        {
          $ref: '#/definitions/ref',
        },
        {
          type: 'array',
          items: {
            $ref: '#/definitions/ref',
          },
        },
      ],
    },
    portItem: {
      description:
        'tcp/443, tcp/9000-9010, udp/53, tcp, icmp, icmp/3/4, icmpv6, all, esp, ah, gre, a protocol number 0-255, or a service name.',
      type: ['string', 'integer'],
    },
    ports: {
      oneOf: [
        {
          $ref: '#/definitions/portItem',
        },
        {
          type: 'array',
          items: {
            $ref: '#/definitions/portItem',
          },
        },
      ],
    },
    cidrs: {
      type: 'array',
      items: {
        type: 'string',
        description: 'IPv4 or IPv6 address or CIDR; host bits must be zero.',
      },
    },
    internalRanges: {
      description:
        "The network's internal ranges: the built-in `internet` is every address outside them. Default: 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, fc00::/7.",
      $ref: '#/definitions/cidrs',
    },
    target: {
      type: 'object',
      additionalProperties: false,
      properties: {
        description: {
          type: 'string',
        },
      },
    },
    entity: {
      type: 'object',
      additionalProperties: false,
      properties: {
        description: {
          type: 'string',
        },
        cidrs: {
          $ref: '#/definitions/cidrs',
        },
        fqdns: {
          type: 'array',
          items: {
            type: 'string',
          },
        },
      },
    },
    segment: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        description: {
          type: 'string',
        },
        ingress: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['from', 'ports'],
            properties: {
              from: {
                $ref: '#/definitions/refs',
              },
              ports: {
                $ref: '#/definitions/ports',
              },
              description: {
                type: 'string',
              },
            },
          },
        },
        egress: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['to', 'ports'],
            properties: {
              to: {
                $ref: '#/definitions/refs',
              },
              ports: {
                $ref: '#/definitions/ports',
              },
              description: {
                type: 'string',
              },
            },
          },
        },
      },
    },
    guardrail: {
      type: 'object',
      additionalProperties: false,
      required: ['name'],
      properties: {
        name: {
          $ref: '#/definitions/dnsName',
        },
        description: {
          type: 'string',
        },
        deny: {
          description: 'No allowed flow may overlap this (from/to absent = any; ports absent = all).',
          type: 'object',
          additionalProperties: false,
          properties: {
            from: {
              $ref: '#/definitions/refs',
            },
            to: {
              $ref: '#/definitions/refs',
            },
            ports: {
              $ref: '#/definitions/ports',
            },
          },
        },
        only: {
          description: 'Flows into `to` may come only from `from`.',
          type: 'object',
          additionalProperties: false,
          required: ['to', 'from'],
          properties: {
            to: {
              $ref: '#/definitions/refs',
            },
            from: {
              $ref: '#/definitions/refs',
            },
          },
        },
      },
    },
  },
};

/** What the assembly needs of a provider: its id, what it renders, its schema fragments. */
type SchemaPart = Pick<TargetDescriptor<string, unknown>, 'id' | 'renders' | 'schema'>;

/** "A, B and C". */
function inWords(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The schema's top-level description, naming what the providers render. */
export function modelSchemaDescription(providers: readonly SchemaPart[]): string {
  return `One declarative segment model compiled to ${inWords(providers.map((p) => p.renders))}. Included files hold services, entities, guardrails and include.`;
}

/** The model's JSON Schema for these providers (in this order): the base with each provider's fragments. */
export function assembleModelSchema(providers: readonly SchemaPart[]): JsonSchema {
  type Props = { properties: Record<string, unknown> };
  const schema = structuredClone(MODEL_SCHEMA_BASE) as {
    description: string;
    definitions: { target: Props; entity: Props; segment: Props };
  };
  schema.description = modelSchemaDescription(providers);
  const defs = schema.definitions;
  for (const p of providers) {
    defs.target.properties[p.id] = p.schema.target;
    if (p.schema.entityBinding) defs.entity.properties[p.id] = p.schema.entityBinding;
    if (p.schema.segmentBinding) defs.segment.properties[p.id] = p.schema.segmentBinding;
  }
  // `description` first, as in every other object of the schema.
  const { $schema, $id, title, description, ...rest } = schema as unknown as Record<string, unknown>;
  return { $schema, $id, title, description, ...rest };
}
