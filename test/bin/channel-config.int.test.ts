import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadChannelConfig } from '../../bin/channel-config';
import { ConfigError } from '../../bin/config';

const dir = mkdtempSync(join(tmpdir(), 'channel-config-'));
const pem = (name: string, kind: 'private' | 'public'): string => {
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const path = join(dir, name);
  writeFileSync(
    path,
    kind === 'private'
      ? keys.privateKey.export({ type: 'pkcs8', format: 'pem' })
      : keys.publicKey.export({ type: 'spki', format: 'pem' }),
  );
  return path;
};
const v2 = {
  WECHAT_APP_ID: 'wx1',
  WECHAT_MCH_ID: 'm1',
  WECHAT_NOTIFY_URL: 'https://shop/n',
  WECHAT_API_KEY: 'k'.repeat(32),
};
const errorOf = (env: Record<string, string>): string => {
  try {
    loadChannelConfig(env);
    return 'no error';
  } catch (error: unknown) {
    return error instanceof ConfigError ? error.message : `unexpected ${String(error)}`;
  }
};

describe('channel configuration', () => {
  it('configures nothing beyond the sandbox when no variable is set', () => {
    expect(loadChannelConfig({})).toEqual({
      wechat: null,
      alipay: null,
      stripe: null,
      sandboxFailRefunds: false,
      sandboxEnabled: true,
    });
  });

  it('reads SANDBOX_ENABLED: on unless set to false', () => {
    expect(loadChannelConfig({ SANDBOX_ENABLED: 'false' }).sandboxEnabled).toBe(false);
    expect(loadChannelConfig({ SANDBOX_ENABLED: 'true' }).sandboxEnabled).toBe(true);
    expect(() => loadChannelConfig({ SANDBOX_ENABLED: 'off' })).toThrow(
      "SANDBOX_ENABLED must be true or false, got 'off'",
    );
  });

  it('reads SANDBOX_FAIL_REFUNDS and refuses anything but true or false', () => {
    expect(loadChannelConfig({ SANDBOX_FAIL_REFUNDS: 'true' }).sandboxFailRefunds).toBe(true);
    expect(() => loadChannelConfig({ SANDBOX_FAIL_REFUNDS: 'yes' })).toThrow(
      "SANDBOX_FAIL_REFUNDS must be true or false, got 'yes'",
    );
  });

  it('reads WeChat v2 with a key from a file and the default HMAC-SHA256', () => {
    const keyFile = join(dir, 'wechat-key');
    writeFileSync(keyFile, `${'f'.repeat(32)}\n`);
    const { WECHAT_API_KEY: _key, ...rest } = v2;
    expect(loadChannelConfig({ ...rest, WECHAT_API_KEY_FILE: keyFile }).wechat).toMatchObject({
      apiVersion: 'v2',
      v2: { apiKey: 'f'.repeat(32), signType: 'HMAC-SHA256' },
      v3: null,
    });
  });

  it('reads WeChat v3 keys and platform certificates by serial, Alipay keys and Stripe secrets', () => {
    const config = loadChannelConfig({
      ...v2,
      WECHAT_API_VERSION: 'v3',
      WECHAT_APIV3_KEY: 'v'.repeat(32),
      WECHAT_MERCHANT_PRIVATE_KEY_FILE: pem('merchant.pem', 'private'),
      WECHAT_MERCHANT_SERIAL_NO: 'SERIAL',
      WECHAT_PLATFORM_CERTS: `PLAT1=${pem('p1.pem', 'public')},PLAT2=${pem('p2.pem', 'public')}`,
      ALIPAY_APP_ID: '2021',
      ALIPAY_NOTIFY_URL: 'https://shop/a',
      ALIPAY_APP_PRIVATE_KEY_FILE: pem('app.pem', 'private'),
      ALIPAY_PUBLIC_KEY_FILE: pem('alipay.pem', 'public'),
      STRIPE_WEBHOOK_SECRETS: 'whsec_a, whsec_b',
    });
    expect([...(config.wechat?.v3?.platformKeys.keys() ?? [])]).toEqual(['PLAT1', 'PLAT2']);
    expect(config.alipay?.appId).toBe('2021');
    expect(config.stripe).toEqual({
      secretKey: null,
      webhookSecrets: ['whsec_a', 'whsec_b'],
      baseUrl: 'https://api.stripe.com',
    });
  });

  it.each([
    [{ ...v2, WECHAT_API_KEY: 'short' }, 'WECHAT_API_KEY must be 32 characters'],
    [{ ...v2, WECHAT_SIGN_TYPE: 'SHA1' }, 'WECHAT_SIGN_TYPE must be MD5 or HMAC-SHA256'],
    [{ WECHAT_APP_ID: 'wx1' }, 'WECHAT_MCH_ID is required with WECHAT_APP_ID'],
    [
      { ...v2, WECHAT_API_VERSION: 'v3', WECHAT_APIV3_KEY: 'v'.repeat(32) },
      'WECHAT_MERCHANT_PRIVATE_KEY is required for WeChat Pay v3',
    ],
    [
      { ALIPAY_APP_ID: '1', ALIPAY_NOTIFY_URL: 'u', ALIPAY_APP_PRIVATE_KEY: 'not a pem' },
      'ALIPAY_APP_PRIVATE_KEY is not a PEM key or certificate',
    ],
    [
      {
        ALIPAY_APP_ID: '1',
        ALIPAY_NOTIFY_URL: 'u',
        ALIPAY_APP_PRIVATE_KEY_FILE: '/nonexistent/key.pem',
      },
      'ALIPAY_APP_PRIVATE_KEY_FILE names a file that cannot be read',
    ],
    [{ STRIPE_SECRET_KEY: 'sk_test' }, 'STRIPE_WEBHOOK_SECRETS is required with STRIPE_SECRET_KEY'],
  ])('refuses a bad variable, naming it and never its value (%#)', (env, message) => {
    const text = errorOf(env);
    expect(text).toBe(message);
    expect(text).not.toContain('short');
  });
});
