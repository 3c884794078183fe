import type { CloudId, TargetSpec } from '../compile/types.js';

/**
 * The normalized flow-log types (DESIGN §6): what every cloud's flow-log reader produces, what
 * connection folding keeps, and the inventory that names the addresses. Plain data, no cloud
 * knowledge: the per-cloud parsers live in `providers/<cloud>/flows.ts` and reach the core through
 * the Provider interface (`flows`, `inventory` in src/provider.ts).
 */

/**
 * Who started a connection, as far as one record tells: `src-client` when the record's source is
 * the client (an Azure flow tuple, an AWS record with SYN and no ACK), `src-server` when its source
 * is the server (a reply), `unknown` when only the port heuristic can tell (src/flows/aggregate.ts).
 */
export type FlowRole = 'unknown' | 'src-client' | 'src-server';

/** Which end of the record wrote it: the source's or the destination's interface, or not said. */
export type FlowReporter = 'unknown' | 'src' | 'dst';

/**
 * One flow-log record, normalized. Readers fill ONE object per file and hand it to the sink for
 * every record (no per-record allocation on the hot path): a sink must copy what it keeps.
 */
export interface FlowRecord {
  /** Start of the capture window, seconds since the epoch (UTC). */
  start: number;
  /** End of the capture window, seconds since the epoch; equal to `start` when the log has one time. */
  end: number;
  /** Source address as logged (IPv4 dotted or IPv6 text; the packet's original address behind a NAT when the log has it). */
  srcAddr: string;
  dstAddr: string;
  /** 0 for protocols without ports. */
  srcPort: number;
  dstPort: number;
  /** IANA protocol number (6 tcp, 17 udp, 1 icmp, 58 icmpv6 …). */
  protocol: number;
  /** ACCEPT (true) or REJECT/deny (false). */
  accepted: boolean;
  packets: number;
  bytes: number;
  role: FlowRole;
  reporter: FlowReporter;
}

/** A fresh scratch record for a reader. */
export function newFlowRecord(): FlowRecord {
  return {
    start: 0,
    end: 0,
    srcAddr: '',
    dstAddr: '',
    srcPort: 0,
    dstPort: 0,
    protocol: 0,
    accepted: true,
    packets: 0,
    bytes: 0,
    role: 'unknown',
    reporter: 'unknown',
  };
}

/** A malformed record: reported with its place and skipped; the run goes on. */
export interface FlowWarning {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/** Where a reader sends what it parses. */
export interface FlowSink {
  /** One record; `record` is reused by the reader after the call returns. */
  add(record: FlowRecord): void;
  /**
   * The same as `add(record)`, with the record's addresses also as unsigned 32-bit numbers when
   * they are canonical IPv4 dotted quads (-1 when not): a reader that reads addresses as numbers
   * (src/flows/addresses.ts) calls this when the sink has it, so the fold finds an address by its
   * number instead of hashing its text (issue 12 item 7). `record.srcAddr`/`dstAddr` are still set.
   */
  addIpv4?(record: FlowRecord, srcIp4: number, dstIp4: number): void;
  /**
   * True when `addIpv4` never reads `record.srcAddr`/`dstAddr` for an address given as a number
   * (≥ 0): it names such an address by the number alone (`ipv4Text`, the same text for a canonical
   * dotted quad). A reader may then leave those two fields as they were, and skip finding the
   * texts per record (the fold sets it; a sink that keeps records must not).
   */
  readonly namesIpv4ByNumber?: boolean;
  /** A record that carries no flow (AWS NODATA/SKIPDATA, an Azure tuple without counters …), counted. */
  skip(reason: string): void;
  warn(warning: FlowWarning): void;
}

/**
 * A source of text: the chunks of one file, decompressed (src/flows/read-files.ts). Readers parse
 * across chunk boundaries themselves.
 */
export type TextChunks = AsyncIterable<string>;

/**
 * The same file as bytes (decompressed, not decoded): for a reader that parses bytes where they lie
 * (the AWS hot path, issue 12 item 7) instead of a decoded copy. A chunk is valid only until the
 * next one is asked for: the reader of a plain file reads into the same two buffers over and over,
 * so a parser must copy whatever it keeps across chunks (a line cut by a boundary).
 */
export type ByteChunks = AsyncIterable<Uint8Array>;

/**
 * One cloud's flow-log parser (`providers/<cloud>/flows.ts`): pure, streaming, never throws on a
 * bad record (a warning with file:line, then the next record).
 */
export interface FlowLogReader {
  /** Short name of the format family for messages ("AWS VPC Flow Logs"). */
  readonly label: string;
  /** True when the first characters of a file look like this cloud's flow logs. */
  detect(head: string): boolean;
  /** Parses one file. `file` is the name used in warnings. */
  read(file: string, chunks: TextChunks, sink: FlowSink): Promise<void>;
  /**
   * Parses one file from its bytes, with the same results, skips and warnings as `read` on its
   * decoded text (UTF-8). Callers that have the bytes prefer it when a reader has it.
   */
  readBytes?(file: string, bytes: ByteChunks, sink: FlowSink): Promise<void>;
}

/** One workload (an interface, a NIC, an instance) of an inventory. */
export interface Workload {
  /** The cloud's id (ENI id, NIC resource id, instance selfLink). */
  readonly id: string;
  /** A readable name (instance id, NIC name, instance name). */
  readonly name: string;
  /** Its addresses, private and public, as the cloud prints them. */
  readonly addresses: readonly string[];
  /** Tags (AWS, Azure) or labels (GCP). */
  readonly tags: Readonly<Record<string, string>>;
  /** Its current groups: security group names, ASG names, network tags / service accounts; sorted. */
  readonly groups: readonly string[];
  /** The group ids beside the names when the cloud has them (AWS `sg-…`), sorted. */
  readonly groupIds?: readonly string[];
  /** Non-workload interfaces (NAT gateways, load balancers, endpoints) say what they are. */
  readonly kind?: string;
}

/** Who is who: address → workload, and the target the workloads live in. */
export interface Inventory {
  readonly cloud: CloudId;
  readonly workloads: readonly Workload[];
  /**
   * The target config a discovered model should name (AWS region + VPC, Azure subscription …),
   * as the provider's schema spells it, when the inventory tells. `name` is a suggested target name.
   */
  readonly target?: { readonly name: string; readonly config: Readonly<Record<string, string>> };
  /** What could not be read (an interface without an address …). */
  readonly warnings: readonly string[];
}

/** Live inventory options (endpoint override for emulators). */
export interface InventoryLiveOptions {
  readonly endpoint?: string;
}

/**
 * One cloud's inventory reader (`providers/<cloud>/inventory.ts`): the CLI's JSON (pure), or the
 * live API, paginated and read-only (the SDK loaded with `await import()` only there).
 */
export interface InventoryReader {
  /** The CLI command whose JSON `parse` reads ("aws ec2 describe-network-interfaces"). */
  readonly source: string;
  /** True when a parsed JSON document looks like this cloud's inventory export. */
  detect(json: unknown): boolean;
  /** Parses the CLI's JSON; throws a ProviderError naming the file and JSON path on bad input. */
  parse(json: unknown, file: string): Inventory;
  /** Reads the inventory of a target through its credentials. */
  live?(target: TargetSpec, options: InventoryLiveOptions): Promise<Inventory>;
}
