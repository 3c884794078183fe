import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { TargetSpec } from '../../src/compile/types.js';
import { ProviderError } from '../../src/errors.js';
import { markRetried } from '../kit/retry.js';
import { SDK_MAX_ATTEMPTS } from './limits.js';

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

/**
 * A ProviderError for an SDK error, saying what was being done. Throttling is retryable, but the
 * SDK's adaptive retry is the one layer that retries it (the kit's rule: never two layers on one
 * call): by the time it reaches here the SDK spent its attempts, so it goes through the kit's
 * `markRetried` and the apply engine does not start the step over.
 */
export function classifyAwsError(err: unknown, doing: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const code = awsErrorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const retryable = code !== undefined && THROTTLING_CODES.has(code);
  const error = new ProviderError(
    `AWS: ${doing} failed: ${code ? `${code}: ` : ''}${message}${advice(code)}`,
    code,
    retryable,
    { cause: err },
  );
  return retryable ? markRetried(error, sdkAttempts(err)) : error;
}

/** Calls the SDK made for a failed command (`$metadata.attempts`), else its configured maximum. */
function sdkAttempts(err: unknown): number {
  const n = (err as { $metadata?: { attempts?: unknown } } | null)?.$metadata?.attempts;
  return typeof n === 'number' && n >= 1 ? n : SDK_MAX_ATTEMPTS;
}

/** What to do when a target has no usable credentials (DESIGN §4: plan offline with snapshots). */
const CREDENTIALS_ADVICE =
  "run 'aws configure' or 'aws sso login', set AWS_PROFILE, or plan offline with --snapshots DIR";

/**
 * A credentials problem of the SDK's provider chain, as one line naming the target, the chain it
 * tried and what to do (issue item 3), with code `credentials`; undefined for any other error.
 * Covers CredentialsProviderError (nothing in the chain), a profile that is not in the shared files,
 * and an SSO session or token that expired (TokenProviderError, or an SSO error naming the expiry).
 */
export function credentialsError(
  err: unknown,
  target: TargetSpec & { kind: 'aws' },
  env: NodeJS.ProcessEnv = process.env,
): ProviderError | undefined {
  if (err instanceof ProviderError || typeof err !== 'object' || err === null) return undefined;
  const name = (err as { name?: unknown }).name;
  const message = err instanceof Error ? err.message : '';
  const profile = target.aws.profile ?? env['AWS_PROFILE'] ?? env['AWS_DEFAULT_PROFILE'];
  const expired = /expired|refresh.*token|token.*refresh/i.test(message) && /sso|token/i.test(message);
  const isChain = name === 'CredentialsProviderError' || name === 'TokenProviderError';
  if (!isChain && !(expired && /sso/i.test(message))) return undefined;
  const line = (what: string, advice: string) =>
    new ProviderError(`target ${target.name}: ${what}: ${advice}`, 'credentials', false, { cause: err });
  if (expired) {
    return line(
      `the AWS SSO session${profile ? ` of profile ${profile}` : ''} has expired`,
      `run 'aws sso login${profile ? ` --profile ${profile}` : ''}', or plan offline with --snapshots DIR`,
    );
  }
  // The chain says only "Could not load credentials from any providers" for a profile that is
  // in neither shared file: look for its section, as the SDK's ini loader would.
  const missingProfile = profile !== undefined && !profileKnown(profile, env);
  const tried = `tried environment variables, the shared config and credentials files${profile ? `, profile ${profile}` : ''}, SSO, container and instance metadata`;
  return line(
    missingProfile
      ? `no AWS credentials: profile ${profile} is not in the shared config or credentials files (${tried})`
      : `no AWS credentials (${tried})`,
    CREDENTIALS_ADVICE,
  );
}

/** True when a shared config (`[profile X]`, `[X]` for default) or credentials (`[X]`) file has the profile's section. */
function profileKnown(profile: string, env: NodeJS.ProcessEnv): boolean {
  const home = env['HOME'] ?? env['USERPROFILE'] ?? homedir();
  const read = (file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch {
      return '';
    }
  };
  const sections = (text: string) =>
    [...text.matchAll(/^\s*\[\s*([^\]]+?)\s*\]/gm)].map((m) => m[1]!.replace(/^profile\s+/, ''));
  return [
    ...sections(read(env['AWS_CONFIG_FILE'] ?? join(home, '.aws', 'config'))),
    ...sections(read(env['AWS_SHARED_CREDENTIALS_FILE'] ?? join(home, '.aws', 'credentials'))),
  ].includes(profile);
}
