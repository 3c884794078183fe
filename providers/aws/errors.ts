import { ProviderError } from '../../src/errors.js';

/**
 * Classifies EC2 errors (`err.name === err.Code`, cloud-semantics §1.4, §1.6) into ProviderErrors
 * with a code and whether a retry may help. Credentials never appear in the messages.
 */

/** Throttling codes the SDK's adaptive retry already backs off on; seen here only once it gave up. */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'EC2ThrottledException',
  'TooManyRequestsException',
]);

/** Codes that mean "already done" for an authorize or create: the step is idempotent. */
export const DUPLICATE_CODES: ReadonlySet<string> = new Set(['InvalidPermission.Duplicate']);

/** Codes that mean "already gone" for a revoke or delete. */
export const NOT_FOUND_CODES: ReadonlySet<string> = new Set([
  'InvalidPermission.NotFound',
  'InvalidSecurityGroupRuleId.NotFound',
  'InvalidGroup.NotFound',
  'InvalidGroupId.NotFound',
  'InvalidPrefixListID.NotFound',
  'InvalidPrefixListId.NotFound',
]);

/** The EC2 error code of an SDK error, if it is one. */
export function awsErrorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { Code?: unknown; name?: unknown };
  if (typeof e.Code === 'string') return e.Code;
  return typeof e.name === 'string' && e.name !== 'Error' ? e.name : undefined;
}

/** Advice for the codes a user must act on. */
function advice(code: string | undefined): string {
  switch (code) {
    case 'RulesPerSecurityGroupLimitExceeded':
      return ' The group is over its rule quota; `bulkhead plan` checks 60 per direction and family, so the account quota may be lower or an unowned rule uses the room.';
    case 'SecurityGroupLimitExceeded':
      return ' The Region is at its security group quota (2,500 by default).';
    case 'UnauthorizedOperation':
    case 'AuthFailure':
      return ' Check the credentials and their IAM permissions for EC2 security groups and managed prefix lists.';
    case 'InvalidGroup.Duplicate':
      return ' A group with that name already exists in the VPC.';
    default:
      return '';
  }
}

/** A ProviderError for an SDK error, saying what was being done. */
export function classifyAwsError(err: unknown, doing: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const code = awsErrorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const retryable = code !== undefined && THROTTLING_CODES.has(code);
  return new ProviderError(`AWS: ${doing} failed: ${code ? `${code}: ` : ''}${message}${advice(code)}`, code, retryable, { cause: err });
}
