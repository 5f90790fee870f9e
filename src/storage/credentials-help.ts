/**
 * The AWS SDK's "Could not load credentials from any providers" as a message a person can act on: the places
 * the default chain looked (what each found here) and the fixes (`aws configure`, AWS_PROFILE, OIDC in Actions).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The SDK's error when every link of the default credential chain came up empty. */
export function isMissingCredentials(error: unknown): boolean {
  const e = error as { name?: unknown; message?: unknown } | null;
  return typeof e?.message === 'string' && e.name === 'CredentialsProviderError' && /could not load credentials from any providers/i.test(e.message);
}

/** Where the default chain of @aws-sdk/credential-provider-node looks, in its order, and what each holds in `env`. */
export function credentialSearch(env: NodeJS.ProcessEnv, exists: (path: string) => boolean = existsSync): string[] {
  const profile = env.AWS_PROFILE;
  const home = env.HOME || homedir();
  const files = [env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'), env.AWS_CONFIG_FILE || join(home, '.aws', 'config')];
  const found = files.filter((f) => exists(f));
  const keys = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY;
  return [
    profile
      ? 'the environment (skipped: AWS_PROFILE is set)'
      : `the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: ${keys ? 'set' : env.AWS_ACCESS_KEY_ID || env.AWS_SECRET_ACCESS_KEY ? 'only one is set' : 'not set'})`,
    `profile ${JSON.stringify(profile || 'default')}, with its SSO and credential_process settings, in ${files.join(' and ')} (${found.length === 0 ? 'no such files' : `nothing usable in ${found.join(' and ')}`})`,
    `a web identity token, as OIDC provides (AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN: ${env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN ? 'set' : 'not set'})`,
    env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
      ? 'the container credentials endpoint (no answer)'
      : `the EC2 instance metadata service (${env.AWS_EC2_METADATA_DISABLED === 'true' ? 'disabled by AWS_EC2_METADATA_DISABLED' : 'no answer'})`,
  ];
}

export const CREDENTIALS_FIX =
  'run `aws configure` (or `aws sso login`) to set up a profile, set AWS_PROFILE to a profile that has credentials, ' +
  'or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; in GitHub Actions, run aws-actions/configure-aws-credentials ' +
  'with role-to-assume first (OIDC: the job needs permissions: id-token: write)';

/** `error` itself, unless it is the SDK's missing-credentials error: then one line naming the places and the fix. */
export function explainCredentialsError(error: unknown, env: NodeJS.ProcessEnv = process.env): unknown {
  if (!isMissingCredentials(error)) return error;
  return new Error(`no AWS credentials found: the AWS SDK looked in ${credentialSearch(env).join(', ')}. Fix: ${CREDENTIALS_FIX}`, { cause: error });
}

/** The S3 client's middleware stack, as far as this module needs it (keeps the SDK's types out of this file). */
interface MiddlewareClient {
  middlewareStack: {
    add(middleware: (next: (args: never) => Promise<unknown>) => (args: never) => Promise<unknown>, options: { step: 'initialize'; name: string }): void;
  };
}

/** Makes every command of `client` fail with the explained error when the credential chain comes up empty. */
export function explainCredentialErrors<T extends MiddlewareClient>(client: T): T {
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        throw explainCredentialsError(error);
      }
    },
    { step: 'initialize', name: 'mlopsExplainCredentials' },
  );
  return client;
}
