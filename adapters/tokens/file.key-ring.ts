import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { statSync } from 'node:fs';
import type { JsonObject } from '../../domain/ports/event-store.port';
import { readKeyRingFile } from './key-ring-file';

type LoadedKey = {
  kid: string;
  privateKey: KeyObject;
  publicKey: KeyObject;
  publicJwk: JsonObject;
  /** Epoch ms until which it verifies; Infinity for the current key. */
  verifiesUntilMs: number;
};

export type KeyRing = {
  /** The key new tokens are signed with. */
  current(): { kid: string; privateKey: KeyObject };
  /** The public key with this kid if it still verifies at nowMs, else null. */
  verificationKey(kid: string, nowMs: number): KeyObject | null;
  /** The public JWKs that verify at nowMs. */
  publicJwks(nowMs: number): JsonObject[];
};

/**
 * The key ring of key-ring-file.ts as the service uses it: reloaded whenever the file changes
 * (`ledger keys rotate` writes it while the service runs), checked by stat on each use.
 */
export const createFileKeyRing = (options: { filePath: string; overlapMs: number }): KeyRing => {
  let loaded: { signature: string; keys: LoadedKey[] } | null = null;
  const keys = (): LoadedKey[] => {
    const stat = statSync(options.filePath);
    const signature = `${stat.ino}:${stat.mtimeMs}:${stat.size}`;
    if (loaded === null || loaded.signature !== signature)
      loaded = { signature, keys: load(options.filePath, options.overlapMs) };
    return loaded.keys;
  };
  return {
    current: () => {
      const [first] = keys();
      if (first === undefined) throw new Error(`${options.filePath}: no signing key`);
      return first;
    },
    verificationKey: (kid, nowMs) =>
      keys().find((key) => key.kid === kid && key.verifiesUntilMs > nowMs)?.publicKey ?? null,
    publicJwks: (nowMs) =>
      keys()
        .filter((key) => key.verifiesUntilMs > nowMs)
        .map((key) => key.publicJwk),
  };
};

const load = (filePath: string, overlapMs: number): LoadedKey[] =>
  readKeyRingFile(filePath).map((stored) => {
    const privateKey = createPrivateKey(stored.privateKeyPem);
    const publicKey = createPublicKey(privateKey);
    const jwk = publicKey.export({ format: 'jwk' });
    return {
      kid: stored.kid,
      privateKey,
      publicKey,
      publicJwk: { ...(jwk as JsonObject), kid: stored.kid, alg: 'EdDSA', use: 'sig' },
      verifiesUntilMs:
        stored.retiredAt === null ? Infinity : Date.parse(stored.retiredAt) + overlapMs,
    };
  });
