import { randomBytes } from 'node:crypto';

/** A client's request-signing settings: its HMAC secret and whether unsigned requests are refused. */
export type SigningSettings = {
  /** The HMAC-SHA256 key: the UTF-8 bytes of this text. Shown once when set; never logged. */
  secret: string;
  /** True: every request of this client must be signed. */
  required: boolean;
  /** ISO-8601 instant. */
  updatedAt: string;
};

/**
 * Signing secrets per client and the nonces seen within the signature window. Nonces are
 * durable: a request replayed after a restart is still recognised.
 */
export interface SigningStore {
  settingsOf(clientId: string): Promise<SigningSettings | null>;
  put(clientId: string, settings: SigningSettings): Promise<void>;
  /** Remembers (clientId, nonce) until expiresAtMs; false when it was already remembered. */
  rememberNonce(clientId: string, nonce: string, expiresAtMs: number): Promise<boolean>;
  /** Forgets the nonces that expired before nowMs; returns how many. */
  purgeNonces(nowMs: number): Promise<number>;
}

const SIGNING_SECRET_PREFIX = 'lss_';
const SIGNING_SECRET_BYTES = 32;

/** A fresh signing secret: 'lss_' + 32 random bytes in base64url. */
export const generateSigningSecret = (): string =>
  `${SIGNING_SECRET_PREFIX}${randomBytes(SIGNING_SECRET_BYTES).toString('base64url')}`;
