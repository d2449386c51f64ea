/**
 * Bundles only (scripts/bundle.ts, infra/functions.ts alias `@aws-sdk/credential-provider-node`
 * to this file): on Lambda the execution role's credentials are always in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), so the SDK's default chain
 * (SSO, INI files, processes, web identity, IMDS/ECS, each with its own STS/SSO client) is
 * dead weight there: about a third of a bundle. The tests and the local stack never use a
 * bundle and keep the SDK's own chain.
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

type Init = Parameters<typeof fromEnv>[0];

/** The environment's credentials, as the default chain's first link reads them. */
export const defaultProvider = (init: Init = {}): AwsCredentialIdentityProvider => fromEnv(init);

/** Same contract as the SDK's: credentials with an expiration are refreshed. */
export const credentialsWillNeedRefresh = (credentials?: AwsCredentialIdentity): boolean => credentials?.expiration !== undefined;

/** Same contract as the SDK's: within 5 minutes of expiring counts as expired. */
export const credentialsTreatedAsExpired = (credentials?: AwsCredentialIdentity): boolean =>
  credentials?.expiration !== undefined && credentials.expiration.getTime() - Date.now() < 300_000;
