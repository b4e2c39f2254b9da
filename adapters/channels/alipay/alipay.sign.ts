import { createVerify, type KeyObject } from 'node:crypto';
import { AlipaySdk } from 'alipay-sdk';

/**
 * The signature base of Alipay's asynchronous notifications: the parameters except `sign` and
 * `sign_type` with non-empty values, sorted by key, joined `k=v&…` with the decoded values. Only
 * notifications drop `sign_type`: requests sign it (alipay-sdk does that, see `createAlipayClient`).
 */
export const alipayNotificationBase = (params: ReadonlyMap<string, string>): string =>
  [...params.entries()]
    .filter(([name, value]) => name !== 'sign' && name !== 'sign_type' && value !== '')
    .sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');

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

type AlipayRequest = {
  method: string;
  notifyUrl: string;
  bizContent: Readonly<Record<string, string>>;
  nowMs: number;
};

type AlipayClient = {
  /** The request's form body (`application/x-www-form-urlencoded`), RSA2-signed by alipay-sdk. */
  signedForm: (request: AlipayRequest) => string;
  /**
   * The text of the answer's `<method>_response` node when alipay-sdk's `checkResponseSign`
   * verifies it against the answer's `sign`, else null.
   */
  verifiedResponseNode: (body: string, method: string) => string | null;
};

/**
 * Request signing and response verification by the official alipay-sdk (OpenAPI 2.0, RSA2);
 * the HTTP exchange stays ours (timeouts, retries and cancellation belong to the gateway).
 */
export const createAlipayClient = (options: {
  appId: string;
  appPrivateKey: KeyObject;
  alipayPublicKey: KeyObject;
}): AlipayClient => {
  const sdk = new AlipaySdk({
    appId: options.appId,
    privateKey: options.appPrivateKey.export({ type: 'pkcs8', format: 'pem' }).toString().trim(),
    keyType: 'PKCS8',
    alipayPublicKey: options.alipayPublicKey
      .export({ type: 'spki', format: 'pem' })
      .toString()
      .trim(),
    signType: 'RSA2',
    charset: 'utf-8',
    version: '1.0',
  });
  return {
    signedForm: (request) =>
      sdk.sdkExecute(
        request.method,
        {
          format: 'JSON',
          timestamp: alipayTimeOf(request.nowMs),
          notify_url: request.notifyUrl,
          bizContent: request.bizContent,
        },
        { bizContentAutoSnakeCase: false },
      ),
    verifiedResponseNode: (body, method) => {
      const responseKey = `${method.replace(/\./g, '_')}_response`;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return null;
      }
      const sign =
        typeof parsed === 'object' && parsed !== null && 'sign' in parsed ? parsed.sign : null;
      if (typeof sign !== 'string' || !body.includes(`"${responseKey}"`)) return null;
      try {
        sdk.checkResponseSign(body, responseKey, sign, '');
      } catch {
        return null;
      }
      return sdk.getSignStr(body, responseKey);
    },
  };
};
