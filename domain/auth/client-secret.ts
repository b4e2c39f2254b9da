import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets for the OAuth token endpoint: shown once, stored as scrypt (RFC 7914) with a
 * random salt, compared in constant time. Format: scrypt$<N>$<r>$<p>$<salt b64url>$<hash b64url>.
 */
const SECRET_PREFIX = 'lcs_';
const SECRET_BYTES = 32;
const SALT_BYTES = 16;
const HASH_BYTES = 32;
const COST = { N: 16384, r: 8, p: 1 } as const;
/** Secrets longer than this are refused before hashing (real ones are 47 characters). */
export const CLIENT_SECRET_CHARS_MAX = 256;

const derive = (
  secret: string,
  salt: Buffer,
  cost: { N: number; r: number; p: number },
): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, { ...cost, maxmem: 64 * 1024 * 1024 }, (error, key) =>
      error === null ? resolve(key) : reject(error),
    );
  });

/** A fresh client secret: 'lcs_' + 32 random bytes in base64url. */
export const generateClientSecret = (): string =>
  `${SECRET_PREFIX}${randomBytes(SECRET_BYTES).toString('base64url')}`;

export const hashClientSecret = async (secret: string): Promise<string> => {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(secret, salt, COST);
  return ['scrypt', COST.N, COST.r, COST.p, salt.toString('base64url'), hash.toString('base64url')]
    .map(String)
    .join('$');
};

/** A stored hash no secret matches: unknown clients cost the same time as known ones. */
export const UNMATCHABLE_SECRET_HASH = `scrypt$${COST.N}$${COST.r}$${COST.p}$${Buffer.alloc(
  SALT_BYTES,
).toString('base64url')}$${Buffer.alloc(HASH_BYTES).toString('base64url')}`;

export const verifyClientSecret = async (secret: string, stored: string): Promise<boolean> => {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || salt === undefined || hash === undefined) return false;
  const cost = { N: Number(n), r: Number(r), p: Number(p) };
  const expected = Buffer.from(hash, 'base64url');
  const actual = await derive(secret, Buffer.from(salt, 'base64url'), cost);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
};
