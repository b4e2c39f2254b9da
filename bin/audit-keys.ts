import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { ed25519PublicKey, keyIdOf } from '../domain/audit/log-checkpoint';
import type { CheckpointSigner } from '../projections/log-checkpoints';

/**
 * The Ed25519 key that signs checkpoints: the PKCS#8 PEM file LEDGER_AUDIT_SIGNING_KEY_FILE names,
 * else one generated on first use into <dataDir>/audit-signing-key.pem (mode 0600). Its public
 * half is written beside it, to <dataDir>/audit-public-key.pem, for auditors to keep elsewhere.
 */
const SIGNING_KEY_FILE_NAME = 'audit-signing-key.pem';
const PUBLIC_KEY_FILE_NAME = 'audit-public-key.pem';

/** An Ed25519 private key from PEM text; throws naming what is wrong. */
export const ed25519PrivateKey = (pem: string, source: string): KeyObject => {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (error: unknown) {
    throw new Error(`${source}: not a PEM private key (${String(error)})`);
  }
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(
      `${source}: an Ed25519 key is needed, got ${key.asymmetricKeyType ?? 'unknown'}`,
    );
  return key;
};

const generatedKeyPem = (dataDir: string): string => {
  const filePath = join(dataDir, SIGNING_KEY_FILE_NAME);
  if (!existsSync(filePath)) {
    mkdirSync(dataDir, { recursive: true });
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    try {
      writeFileSync(filePath, pem, { mode: 0o600, flag: 'wx' });
      chmodSync(filePath, 0o600);
    } catch (error: unknown) {
      // Another process (the service, a CLI command) generated it first: use that one.
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  return readFileSync(filePath, 'utf8');
};

/**
 * The signer. Its public key is written to dataDir whenever missing or different; a different one
 * found there (a key rotated out) is kept as audit-public-key-<keyId>.pem, still trusted by verify.
 */
export const loadCheckpointSigner = (
  dataDir: string,
  keyFile: string | null,
): CheckpointSigner & { publicKeyFile: string; publicKeyPem: string } => {
  const source = keyFile ?? join(dataDir, SIGNING_KEY_FILE_NAME);
  const privateKey = ed25519PrivateKey(
    keyFile === null ? generatedKeyPem(dataDir) : readFileSync(keyFile, 'utf8'),
    source,
  );
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const publicKeyFile = join(dataDir, PUBLIC_KEY_FILE_NAME);
  const previousPem = existsSync(publicKeyFile) ? readFileSync(publicKeyFile, 'utf8') : null;
  if (previousPem !== publicKeyPem) {
    if (previousPem !== null) {
      const rotatedId = keyIdOf(ed25519PublicKey(previousPem));
      renameSync(publicKeyFile, join(dataDir, `audit-public-key-${rotatedId}.pem`));
    }
    writeFileSync(publicKeyFile, publicKeyPem);
  }
  return { keyId: keyIdOf(publicKey), privateKey, publicKeyFile, publicKeyPem };
};

/** The public keys in dataDir: the current one and those rotated out. */
export const dataDirPublicKeyFiles = (dataDir: string): string[] =>
  existsSync(dataDir)
    ? readdirSync(dataDir)
        .filter((name) => /^audit-public-key(-[0-9a-f]{16})?\.pem$/.test(name))
        .map((name) => join(dataDir, name))
    : [];

/** Trusted public keys by key id, from PEM files. */
export const readPublicKeys = (files: readonly string[]): Map<string, KeyObject> =>
  new Map(
    files.map((file) => {
      const key = ed25519PublicKey(readFileSync(file, 'utf8'));
      return [keyIdOf(key), key];
    }),
  );
