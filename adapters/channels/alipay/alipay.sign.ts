import { createSign, createVerify, type KeyObject } from 'node:crypto';

/**
 * Alipay's RSA2: SHA256withRSA, base64, over the parameters except `sign` and `sign_type` with
 * non-empty values, sorted by key, joined `k=v&…` with the decoded (not URL-encoded) values.
 */
export const alipaySignatureBase = (params: ReadonlyMap<string, string>): string =>
  [...params.entries()]
    .filter(([name, value]) => name !== 'sign' && name !== 'sign_type' && value !== '')
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');

export const signAlipay = (
  params: ReadonlyMap<string, string>,
  privateKey: KeyObject | string,
): string =>
  createSign('RSA-SHA256').update(alipaySignatureBase(params), 'utf8').sign(privateKey, 'base64');

export const verifyAlipayText = (
  text: string,
  signature: Buffer,
  publicKey: KeyObject,
): boolean => {
  try {
    return createVerify('RSA-SHA256').update(text, 'utf8').verify(publicKey, signature);
  } catch {
    return false;
  }
};

/** Alipay's times are Beijing time without an offset: "2025-01-31 20:00:00". */
export const alipayTimeMs = (text: string): number =>
  /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/.test(text)
    ? Date.parse(`${text.replace(' ', 'T')}+08:00`)
    : Number.NaN;

export const alipayTimeOf = (ms: number): string =>
  new Date(ms + 8 * 3600 * 1000).toISOString().slice(0, 19).replace('T', ' ');
