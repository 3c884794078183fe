/**
 * One example model per validation rule, and the diagnostic it must produce (position, code,
 * message). Used by validate.test.ts; also the source of the rule list in the README.
 */
export const HEAD = 'bulkhead: 1\nname: demo\n';

export const CASES: { rule: string; files: Record<string, string>; expect: RegExp }[] = [
  {
    rule: 'empty-file',
    files: { 'm.yaml': '# nothing here\n' },
    expect: /^m\.yaml:1:1 error empty-file: the file is empty/,
  },
  {
    rule: 'yaml-syntax',
    files: { 'm.yaml': `${HEAD}segments: [a, \n` },
    expect: /^m\.yaml:4:1 error yaml-syntax: YAML syntax error: /,
  },
  {
    rule: 'duplicate-key',
    files: { 'm.yaml': `${HEAD}segments:\n  a: {}\n  b: {}\n  a: {}\n` },
    expect: /^m\.yaml:6:3 error duplicate-key: duplicate key "a"/,
  },
  {
    rule: 'missing-version',
    files: { 'm.yaml': 'name: demo\nsegments: { a: {} }\n' },
    expect: /^m\.yaml:1:1 error missing-version: .*"bulkhead: 1"/,
  },
  {
    rule: 'unsupported-version',
    files: { 'm.yaml': 'bulkhead: 2\nname: demo\n' },
    expect: /^m\.yaml:1:11 error unsupported-version: format version 2 is not supported/,
  },
  {
    rule: 'missing-name',
    files: { 'm.yaml': 'bulkhead: 1\nsegments: { a: {} }\n' },
    expect: /^m\.yaml:1:1 error missing-name: /,
  },
  {
    rule: 'unknown-key',
    files: { 'm.yaml': `${HEAD}segments:\n  a:\n    ingres: []\n` },
    expect: /^m\.yaml:5:5 error unknown-key: segments\.a: unknown key "ingres"; did you mean "ingress"\?/,
  },
  {
    rule: 'missing-key',
    files: { 'm.yaml': `${HEAD}targets:\n  t: { aws: { region: eu-west-1 } }\n` },
    expect: /^m\.yaml:4:13 error missing-key: targets\.t\.aws: missing required key "vpc"/,
  },
  {
    rule: 'wrong-type',
    files: { 'm.yaml': `${HEAD}segments:\n  a:\n    ingress: { from: internet, ports: tcp/443 }\n` },
    expect: /^m\.yaml:5:14 error wrong-type: segments\.a\.ingress: expected a list, found a mapping/,
  },
  {
    rule: 'bad-value',
    files: { 'm.yaml': `${HEAD}targets:\n  t: { aws: { region: eu-west-1, vpc: vpc-12 } }\n` },
    expect: /^m\.yaml:4:39 error bad-value: targets\.t\.aws\.vpc: "vpc-12" is not valid: expected a VPC id/,
  },
  {
    rule: 'bad-name',
    files: { 'm.yaml': `${HEAD}segments:\n  Web: {}\n` },
    expect: /^m\.yaml:4:3 error bad-name: segments: invalid name "Web"/,
  },
  {
    rule: 'unknown-reference',
    files: { 'm.yaml': `${HEAD}segments:\n  web: {}\n  db:\n    ingress: [{ from: wbe, ports: [tcp/5432] }]\n` },
    expect: /^m\.yaml:6:23 error unknown-reference: unknown reference "wbe": .*; did you mean "web"\?/,
  },
  {
    rule: 'unknown-reference (tier)',
    files: {
      'm.yaml': `${HEAD}tiers:\n  front: [web]\nsegments:\n  web: {}\n  db:\n    ingress: [{ from: tier:fornt, ports: [tcp/5432] }]\n`,
    },
    expect: /^m\.yaml:8:23 error unknown-reference: unknown tier "fornt"; did you mean "tier:front"\?/,
  },
  {
    rule: 'unknown-reference (bare tier name)',
    files: {
      'm.yaml': `${HEAD}tiers:\n  front: [web]\nsegments:\n  web: {}\n  db:\n    ingress: [{ from: front, ports: [tcp/5432] }]\n`,
    },
    expect:
      /^m\.yaml:8:23 error unknown-reference: "front" is a tier, not a segment or entity; did you mean "tier:front"\?/,
  },
  {
    rule: 'ambiguous-reference',
    files: {
      'm.yaml': `${HEAD}entities:\n  web: { cidrs: [192.0.2.0/24] }\nsegments:\n  web: {}\n  db:\n    ingress: [{ from: web, ports: [tcp/5432] }]\n`,
    },
    expect: /^m\.yaml:8:23 error ambiguous-reference: "web" is both a segment and an entity/,
  },
  {
    rule: 'unknown-service',
    files: {
      'm.yaml': `${HEAD}services:\n  https: tcp/443\nsegments:\n  web:\n    ingress: [{ from: internet, ports: [htps] }]\n`,
    },
    expect: /^m\.yaml:7:41 error unknown-service: unknown service "htps"; did you mean "https"\?/,
  },
  {
    rule: 'bad-protocol',
    files: { 'm.yaml': `${HEAD}services:\n  x: tpc/443\n` },
    expect: /^m\.yaml:4:6 error bad-protocol: "tpc\/443": unknown protocol "tpc"/,
  },
  {
    rule: 'bad-port',
    files: { 'm.yaml': `${HEAD}services:\n  x: tcp/70000\n` },
    expect: /^m\.yaml:4:6 error bad-port: "tcp\/70000": port 70000 is out of range \(0-65535\)/,
  },
  {
    rule: 'bad-port-range',
    files: { 'm.yaml': `${HEAD}services:\n  x: tcp/10-5\n` },
    expect: /^m\.yaml:4:6 error bad-port-range: "tcp\/10-5": the range 10-5 is reversed; did you mean tcp\/5-10\?/,
  },
  {
    rule: 'bad-icmp',
    files: { 'm.yaml': `${HEAD}services:\n  x: icmp/3/300\n` },
    expect: /^m\.yaml:4:6 error bad-icmp: "icmp\/3\/300": ICMP code "300" must be a number 0-255/,
  },
  {
    rule: 'bad-service',
    files: { 'm.yaml': `${HEAD}services:\n  x: esp/50\n` },
    expect: /^m\.yaml:4:6 error bad-service: "esp\/50": esp has no ports/,
  },
  {
    rule: 'bad-service (port without protocol)',
    files: { 'm.yaml': `${HEAD}segments:\n  web:\n    ingress: [{ from: internet, ports: [8080] }]\n` },
    expect: /^m\.yaml:5:41 error bad-service: 8080 is not a service: write a protocol with the port, like tcp\/8080/,
  },
  {
    rule: 'service-cycle',
    files: { 'm.yaml': `${HEAD}services:\n  a: [b]\n  b: [a]\n` },
    expect: /error service-cycle: service "\w" refers back to itself: /,
  },
  {
    rule: 'reserved-name (service)',
    files: { 'm.yaml': `${HEAD}services:\n  udp: tcp/53\n` },
    expect: /^m\.yaml:4:3 error reserved-name: "udp" is a protocol keyword/,
  },
  {
    rule: 'reserved-name (internet)',
    files: { 'm.yaml': `${HEAD}entities:\n  internet: { cidrs: [0.0.0.0/0] }\n` },
    expect: /^m\.yaml:4:3 error reserved-name: "internet" is built in/,
  },
  {
    rule: 'bad-cidr',
    files: { 'm.yaml': `${HEAD}entities:\n  office: { cidrs: [10.0.0.0/33] }\n` },
    expect: /^m\.yaml:4:21 error bad-cidr: entity "office": "10\.0\.0\.0\/33": the prefix length must be 0-32/,
  },
  {
    rule: 'cidr-host-bits',
    files: { 'm.yaml': `${HEAD}entities:\n  office: { cidrs: [10.0.0.5/24] }\n` },
    expect:
      /^m\.yaml:4:21 error cidr-host-bits: entity "office": "10\.0\.0\.5\/24" has host bits set; write 10\.0\.0\.0\/24 for the network or 10\.0\.0\.5\/32 for the host/,
  },
  {
    rule: 'fqdn-wildcard',
    files: { 'm.yaml': `${HEAD}entities:\n  cdn: { fqdns: ["*.example.com"] }\n` },
    expect: /^m\.yaml:4:18 error fqdn-wildcard: entity "cdn": "\*\.example\.com": wildcard FQDNs are not supported/,
  },
  {
    rule: 'bad-fqdn',
    files: { 'm.yaml': `${HEAD}entities:\n  cdn: { fqdns: [localhost] }\n` },
    expect: /^m\.yaml:4:18 error bad-fqdn: entity "cdn": "localhost" is not a fully qualified domain name/,
  },
  {
    rule: 'entity-kind',
    files: { 'm.yaml': `${HEAD}entities:\n  x: { cidrs: [10.0.0.0/8], fqdns: [a.example.com] }\n` },
    expect: /^m\.yaml:4:3 error entity-kind: entity "x" mixes cidrs and fqdns/,
  },
  {
    rule: 'empty-binding',
    files: { 'm.yaml': `${HEAD}entities:\n  s: { aws: {} }\n` },
    expect: /^m\.yaml:4:13 error empty-binding: entity "s" \(aws\): the aws binding needs "prefixList" or "cidrs"/,
  },
  {
    rule: 'empty-list',
    files: { 'm.yaml': `${HEAD}segments:\n  web:\n    ingress: [{ from: internet, ports: [] }]\n` },
    expect: /^m\.yaml:5:40 error empty-list: "ports" is empty/,
  },
  {
    rule: 'fqdn-source',
    files: {
      'm.yaml': `${HEAD}entities:\n  apis: { fqdns: [api.example.com] }\nsegments:\n  web:\n    ingress: [{ from: apis, ports: [tcp/443] }]\n`,
    },
    expect: /^m\.yaml:7:23 error fqdn-source: entity "apis" is a set of FQDNs and cannot be a source/,
  },
  {
    rule: 'target-cloud',
    files: {
      'm.yaml': `${HEAD}targets:\n  t: { aws: { region: eu-west-1, vpc: vpc-01234567 }, gcp: { project: demo-prod, network: v } }\n`,
    },
    expect: /^m\.yaml:4:3 error target-cloud: target "t" names aws and gcp/,
  },
  {
    rule: 'target-conflict',
    files: {
      'm.yaml': `${HEAD}targets:\n  a: { aws: { region: eu-west-1, vpc: vpc-01234567 } }\n  b: { aws: { region: eu-west-1, vpc: vpc-01234567 } }\n`,
    },
    expect: /^m\.yaml:5:3 error target-conflict: targets "a" and "b" both manage the aws VPC vpc-01234567 in eu-west-1/,
  },
  {
    rule: 'duplicate-override',
    files: {
      'm.yaml': `${HEAD}segments:\n  a: { aws: { groupId: sg-01234567 } }\n  b: { aws: { groupId: sg-01234567 } }\n`,
    },
    expect: /^m\.yaml:5:3 error duplicate-override: segments "a" and "b" both adopt the security group sg-01234567/,
  },
  {
    rule: 'missing-cloud-binding',
    files: {
      'm.yaml': `${HEAD}targets:\n  az: { azure: { subscription: 00000000-0000-0000-0000-000000000000, resourceGroup: rg, location: westeurope, nsg: n } }\nentities:\n  s3: { aws: { prefixList: com.amazonaws.eu-west-1.s3 } }\nsegments:\n  app:\n    egress: [{ to: s3, ports: [tcp/443] }]\n`,
    },
    expect: /^m\.yaml:9:20 error missing-cloud-binding: entity "s3" has no azure binding, but target "az" is on azure/,
  },
  {
    rule: 'fqdn-without-firewall-policy',
    files: {
      'm.yaml': `${HEAD}targets:\n  g: { gcp: { project: demo-prod, network: v } }\nentities:\n  apis: { fqdns: [api.example.com] }\nsegments:\n  app:\n    egress: [{ to: apis, ports: [tcp/443] }]\n`,
    },
    expect: /^m\.yaml:4:3 warning fqdn-without-firewall-policy: target "g" has no firewallPolicy/,
  },
  {
    rule: 'tier-conflict',
    files: { 'm.yaml': `${HEAD}tiers:\n  a: [web]\n  b: [web]\nsegments:\n  web: {}\n` },
    expect: /^m\.yaml:5:7 error tier-conflict: segment "web" is in two tiers, "a" and "b"/,
  },
  {
    rule: 'name-too-long',
    files: {
      'm.yaml': `bulkhead: 1\nname: a-rather-long-model-name-for-a-shop\nsegments:\n  a-segment-name-that-is-also-quite-long: {}\n`,
    },
    expect: /^m\.yaml:4:3 error name-too-long: /,
  },
  {
    rule: 'guardrail-kind',
    files: { 'm.yaml': `${HEAD}guardrails:\n  - name: g\n` },
    expect: /^m\.yaml:4:5 error guardrail-kind: guardrail "g" needs exactly one of "deny" or "only"/,
  },
  {
    rule: 'bad-guardrail',
    files: {
      'm.yaml': `${HEAD}entities:\n  office: { cidrs: [10.0.0.0/8] }\nsegments:\n  web: {}\nguardrails:\n  - name: g\n    only: { to: office, from: [web] }\n`,
    },
    expect: /^m\.yaml:9:17 error bad-guardrail: "office" is an entity: "only.to" must name segments or tiers/,
  },
  {
    rule: 'guardrail-violation (deny)',
    files: {
      'm.yaml': `${HEAD}segments:\n  web:\n    ingress: [{ from: internet, ports: [tcp] }]\nguardrails:\n  - name: no-ssh\n    deny: { from: internet, ports: [tcp/22] }\n`,
    },
    expect:
      /^m\.yaml:5:15 error guardrail-violation: flow internet -> web tcp\/0-65535 overlaps guardrail "no-ssh" \(deny from internet \(addresses outside the internal ranges 10\.0\.0\.0\/8, 100\.64\.0\.0\/10, 172\.16\.0\.0\/12, 192\.168\.0\.0\/16, fc00::\/7\) on tcp\/22\)/,
  },
  {
    rule: 'guardrail-violation (only)',
    files: {
      'm.yaml': `${HEAD}segments:\n  app: {}\n  web:\n    egress: [{ to: db, ports: [tcp/5432] }]\n  db: {}\nguardrails:\n  - name: db-only-from-app\n    only: { to: db, from: [app] }\n`,
    },
    expect:
      /^m\.yaml:6:14 error guardrail-violation: flow web -> db tcp\/5432 comes from "web", not a listed source of guardrail "db-only-from-app"/,
  },
  {
    rule: 'icmp-family-mismatch',
    files: {
      'm.yaml': `${HEAD}entities:\n  v6: { cidrs: ["2001:db8::/32"] }\nsegments:\n  web:\n    ingress: [{ from: v6, ports: [icmp] }]\n`,
    },
    expect: /^m\.yaml:7:15 warning icmp-family-mismatch: flow v6 -> web icmp is dropped: icmp needs IPv4/,
  },
  {
    rule: 'duplicate-definition',
    files: {
      'm.yaml': `${HEAD}include: [p.yaml]\nservices:\n  https: tcp/443\n`,
      'p.yaml': 'bulkhead: 1\nservices:\n  https: tcp/8443\n',
    },
    expect: /^p\.yaml:3:3 error duplicate-definition: service "https" is defined twice/,
  },
  {
    rule: 'include-content',
    files: { 'm.yaml': `${HEAD}include: p.yaml\n`, 'p.yaml': 'bulkhead: 1\nsegments: { x: {} }\n' },
    expect: /^p\.yaml:2:1 error include-content: "segments" belongs in the root model file \(m\.yaml\)/,
  },
  {
    rule: 'include-not-found',
    files: { 'm.yaml': `${HEAD}include: [guardrail.yaml]\n`, 'guardrails.yaml': 'bulkhead: 1\n' },
    expect:
      /^m\.yaml:3:11 error include-not-found: cannot include "guardrail\.yaml": no such file; did you mean "guardrails\.yaml"\?/,
  },
  {
    rule: 'include-cycle',
    files: {
      'm.yaml': `${HEAD}include: a.yaml\n`,
      'a.yaml': 'bulkhead: 1\ninclude: b.yaml\n',
      'b.yaml': 'bulkhead: 1\ninclude: [a.yaml]\n',
    },
    expect: /^b\.yaml:2:11 error include-cycle: include cycle: a\.yaml -> b\.yaml -> a\.yaml/,
  },
];
