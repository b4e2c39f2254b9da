import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The token signing keys in one JSON file in DATA_DIR (mode 0600): the current key (retiredAt
 * null) and the keys rotated out, each kept for verification until retiredAt + overlap. Written
 * whole to a temporary file and renamed, so a reader never sees half a file.
 */
const TOKEN_KEYS_FILE_NAME = 'token-signing-keys.json';

type StoredSigningKey = {
  kid: string;
  alg: 'EdDSA';
  createdAt: string;
  retiredAt: string | null;
  privateKeyPem: string;
};

type KeyRingFile = { keys: StoredSigningKey[] };

export const tokenKeysPath = (dataDir: string): string => join(dataDir, TOKEN_KEYS_FILE_NAME);

/** kid: the first 16 hex digits of sha256 over the public key's SPKI DER. */
const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256')
    .update(publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);

const ed25519Private = (pem: string, source: string): KeyObject => {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519')
    throw new Error(`${source}: an Ed25519 private key is needed`);
  return key;
};

const storedKey = (privateKey: KeyObject, createdAt: string): StoredSigningKey => ({
  kid: keyIdOf(createPublicKey(privateKey)),
  alg: 'EdDSA',
  createdAt,
  retiredAt: null,
  privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
});

export const readKeyRingFile = (filePath: string): StoredSigningKey[] => {
  const parsed = JSON.parse(readFileSync(filePath, 'utf8')) as KeyRingFile;
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0)
    throw new Error(`${filePath}: no signing key`);
  return parsed.keys;
};

const writeKeyRingFile = (filePath: string, keys: readonly StoredSigningKey[]): void => {
  mkdirSync(dirname(filePath), { recursive: true });
  const temporary = `${filePath}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ keys }, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, filePath);
};

type Rotation = { kidNew: string; kidPrevious: string | null; kidsDropped: string[] };

/**
 * Makes newKey current: the current key retires now (verifying through the overlap), keys whose
 * overlap has ended are dropped. Without newKey a fresh Ed25519 key is generated.
 */
export const rotateKeyRing = (options: {
  filePath: string;
  nowMs: number;
  overlapMs: number;
  newKey?: KeyObject;
}): Rotation => {
  const { filePath, nowMs, overlapMs } = options;
  const nowIso = new Date(nowMs).toISOString();
  const keys = existsSync(filePath) ? readKeyRingFile(filePath) : [];
  const fresh = storedKey(
    options.newKey ?? generateKeyPairSync('ed25519').privateKey,
    new Date(nowMs).toISOString(),
  );
  const previous = keys.find((key) => key.retiredAt === null) ?? null;
  const kept = keys
    .filter((key) => key.kid !== fresh.kid)
    .map((key) => (key.retiredAt === null ? { ...key, retiredAt: nowIso } : key));
  const live = kept.filter((key) => Date.parse(key.retiredAt ?? nowIso) + overlapMs > nowMs);
  writeKeyRingFile(filePath, [fresh, ...live]);
  return {
    kidNew: fresh.kid,
    kidPrevious: previous?.kid ?? null,
    kidsDropped: kept.filter((key) => !live.includes(key)).map((key) => key.kid),
  };
};

/**
 * At start: a key ring exists afterwards. A configured key (PEM file) that is not the current
 * one becomes current by a rotation; answers that rotation, or null when nothing changed.
 */
export const ensureKeyRing = (options: {
  filePath: string;
  configuredKeyFile: string | null;
  nowMs: number;
  overlapMs: number;
}): Rotation | null => {
  const { filePath, configuredKeyFile } = options;
  const configured =
    configuredKeyFile === null
      ? null
      : ed25519Private(readFileSync(configuredKeyFile, 'utf8'), configuredKeyFile);
  if (existsSync(filePath)) {
    chmodSync(filePath, 0o600);
    const current = readKeyRingFile(filePath).find((key) => key.retiredAt === null);
    if (configured === null || current?.kid === keyIdOf(createPublicKey(configured))) return null;
  }
  return rotateKeyRing({ ...options, ...(configured === null ? {} : { newKey: configured }) });
};
