/**
 * The packet-level GCP evaluator of VPC firewall rules now lives in the provider
 * (providers/gcp/evaluate.ts, beside the full evaluator `explain` uses); re-exported here so the
 * tests that ask it what a packet between two VMs meets keep their import.
 */
export {
  appliesTo,
  host,
  inRanges,
  matchesProtocol,
  matching,
  verdict,
  winner,
  type Instance,
  type Packet,
} from '../../../providers/gcp/evaluate.js';
