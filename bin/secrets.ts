import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SANDBOX_SECRET_FILE_NAME = 'sandbox-callback-secret';

/**
 * The sandbox channel's signing secret: SANDBOX_CALLBACK_SECRET when set, otherwise generated once
 * into <dataDir>/sandbox-callback-secret (mode 0600) so that the CLI can sign demo callbacks.
 */
export const sandboxSecret = (dataDir: string, fromEnv: string | null): string => {
  if (fromEnv !== null) return fromEnv;
  const filePath = join(dataDir, SANDBOX_SECRET_FILE_NAME);
  if (existsSync(filePath)) return readFileSync(filePath, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(filePath, `${randomBytes(32).toString('base64url')}\n`, {
    mode: 0o600,
    flag: 'wx',
  });
  chmodSync(filePath, 0o600);
  return readFileSync(filePath, 'utf8').trim();
};
