import {
  createCipheriv,
  createDecipheriv,
  createPublicKey,
  createSecretKey,
  createSign,
  verify,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';

/**
 * WeChat Pay API v3 primitives: SHA256-RSA (PKCS#1 v1.5) signatures over newline-joined
 * messages, and AEAD_AES_256_GCM for notification resources (key = the 32-byte APIv3 key,
 * iv = the resource's 12-character nonce, ciphertext = base64 of cipher text followed by the tag).
 */
const GCM_TAG_BYTES = 16;

/** A platform certificate (X.509 PEM) or bare public key (PEM) as a verification key. */
export const platformKeyFromPem = (pem: string): KeyObject =>
  pem.includes('CERTIFICATE') ? new X509Certificate(pem).publicKey : createPublicKey(pem);

export const signatureMessage = (parts: readonly string[]): string =>
  parts.map((part) => `${part}\n`).join('');

export const signSha256Rsa = (privateKeyPem: string | KeyObject, message: string): string =>
  createSign('RSA-SHA256').update(message, 'utf8').sign(privateKeyPem, 'base64');

/** One-shot (no Verify stream object per call: about a third cheaper per callback). */
export const verifySha256Rsa = (key: KeyObject, message: Buffer, signature: Buffer): boolean => {
  try {
    return verify('sha256', message, key, signature);
  } catch {
    return false;
  }
};

export type EncryptedResource = {
  algorithm: string;
  ciphertext: string;
  associated_data?: string;
  nonce: string;
};

/** The APIv3 key as a cipher key, made once per merchant rather than once per notification. */
export const apiV3CipherKey = (apiV3Key: string): KeyObject =>
  createSecretKey(Buffer.from(apiV3Key, 'utf8'));

export const decryptResource = (
  resource: EncryptedResource,
  apiV3Key: string | KeyObject,
): string | null => {
  try {
    const data = Buffer.from(resource.ciphertext, 'base64');
    if (data.length <= GCM_TAG_BYTES) return null;
    const decipher = createDecipheriv(
      'aes-256-gcm',
      typeof apiV3Key === 'string' ? Buffer.from(apiV3Key, 'utf8') : apiV3Key,
      Buffer.from(resource.nonce, 'utf8'),
    );
    decipher.setAuthTag(data.subarray(data.length - GCM_TAG_BYTES));
    decipher.setAAD(Buffer.from(resource.associated_data ?? '', 'utf8'));
    return Buffer.concat([
      decipher.update(data.subarray(0, data.length - GCM_TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return null;
  }
};

/** The inverse of decryptResource: what the channel (or a test playing it) sends. */
export const encryptResource = (
  plain: string,
  apiV3Key: string,
  nonce: string,
  associatedData: string,
): EncryptedResource => {
  const cipher = createCipheriv(
    'aes-256-gcm',
    Buffer.from(apiV3Key, 'utf8'),
    Buffer.from(nonce, 'utf8'),
  );
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return {
    algorithm: 'AEAD_AES_256_GCM',
    ciphertext: body.toString('base64'),
    associated_data: associatedData,
    nonce,
  };
};
