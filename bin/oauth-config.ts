import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ed25519PrivateKey } from './audit-keys';
import { ConfigError, integerVariable, urlVariable, type ReadVariable } from './config-rules';
import { DEFAULTS } from './config-variables';

export type OAuthConfig = {
  issuer: string;
  audience: string;
  tokenTtlS: number;
  /** How long a rotated-out signing key still verifies tokens. */
  keyOverlapS: number;
  /** PEM file of an Ed25519 key made current at start; null: the key ring in DATA_DIR. */
  signingKeyFile: string | null;
  securityEventRetentionDays: number;
};

const KEY_OVERLAP_S_MAX = 30 * 24 * 3600;

/** The OAuth part of loadConfig (bin/config.ts); defaultIssuer is http://HOST:PORT. */
export const loadOAuthConfig = (read: ReadVariable, defaultIssuer: string): OAuthConfig => {
  const tokenTtlS = integerVariable(read, 'OAUTH_TOKEN_TTL_S', DEFAULTS.OAUTH_TOKEN_TTL_S, {
    min: 60,
    max: 900,
  });
  const audience = read('OAUTH_AUDIENCE') ?? DEFAULTS.OAUTH_AUDIENCE;
  if (/\s/.test(audience)) throw new ConfigError('OAUTH_AUDIENCE must not contain spaces');
  return {
    issuer:
      urlVariable(read, 'OAUTH_ISSUER', /^https?:\/\/\S+$/, 'be an http:// or https:// URL') ??
      defaultIssuer,
    audience,
    tokenTtlS,
    keyOverlapS: integerVariable(read, 'OAUTH_KEY_OVERLAP_S', DEFAULTS.OAUTH_KEY_OVERLAP_S, {
      min: tokenTtlS,
      max: KEY_OVERLAP_S_MAX,
    }),
    signingKeyFile: signingKeyFile(read),
    securityEventRetentionDays: integerVariable(
      read,
      'SECURITY_EVENT_RETENTION_DAYS',
      DEFAULTS.SECURITY_EVENT_RETENTION_DAYS,
      { min: 1, max: 3650 },
    ),
  };
};

const signingKeyFile = (read: ReadVariable): string | null => {
  const file = read('OAUTH_SIGNING_KEY_FILE');
  if (file === null) return null;
  try {
    ed25519PrivateKey(readFileSync(file, 'utf8'), file);
  } catch (error: unknown) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`OAUTH_SIGNING_KEY_FILE: ${reason}`);
  }
  return resolve(file);
};
