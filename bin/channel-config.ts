import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { WechatV2SignType } from '../adapters/channels/wechat/wechat-v2.xml';
import { platformKeyFromPem } from '../adapters/channels/wechat/wechat-v3.crypto';
import { ConfigError } from './config-rules';

/**
 * Payment channels' configuration from the environment. Every secret comes from NAME or from the
 * file named by NAME_FILE; messages name the variable, never a value. A channel whose first
 * variable is unset is simply not configured.
 */
type Env = Readonly<Record<string, string | undefined>>;

export type WechatConfig = {
  apiVersion: 'v2' | 'v3';
  appId: string;
  mchId: string;
  baseUrl: string;
  notifyUrl: string;
  v2: {
    apiKey: string;
    signType: WechatV2SignType;
    clientCertificate: { certPem: string; keyPem: string } | null;
  } | null;
  v3: {
    apiV3Key: string;
    merchantPrivateKey: KeyObject;
    merchantSerialNo: string;
    platformKeys: Map<string, KeyObject>;
  } | null;
};
export type AlipayConfig = {
  appId: string;
  gatewayUrl: string;
  notifyUrl: string;
  appPrivateKey: KeyObject;
  alipayPublicKey: KeyObject;
};
export type StripeConfig = { secretKey: string | null; webhookSecrets: string[]; baseUrl: string };
export type ChannelConfig = {
  wechat: WechatConfig | null;
  alipay: AlipayConfig | null;
  stripe: StripeConfig | null;
  /** SANDBOX_FAIL_REFUNDS=true: the sandbox refuses every refund (to watch the refund saga compensate). */
  sandboxFailRefunds: boolean;
  /**
   * SANDBOX_ENABLED=false (production): no sandbox channel, no sandbox callbacks, no `ledger
   * sandbox pay`; test-mode keys then create no payments.
   */
  sandboxEnabled: boolean;
};

const read = (env: Env, name: string): string | null => {
  const value = env[name]?.trim() ?? '';
  return value === '' ? null : value;
};

/** NAME, else the content of the file NAME_FILE, else null. */
const secret = (env: Env, name: string): string | null => {
  const direct = read(env, name);
  if (direct !== null) return direct;
  const file = read(env, `${name}_FILE`);
  if (file === null) return null;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    throw new ConfigError(`${name}_FILE names a file that cannot be read`);
  }
};

const required = (env: Env, name: string, why: string): string => {
  const value = secret(env, name);
  if (value === null) throw new ConfigError(`${name} is required ${why}`);
  return value;
};

const keyOf = (
  env: Env,
  name: string,
  why: string,
  parse: (pem: string) => KeyObject,
): KeyObject => {
  try {
    return parse(required(env, name, why));
  } catch (error: unknown) {
    if (error instanceof ConfigError) throw error;
    throw new ConfigError(`${name} is not a PEM key or certificate`);
  }
};

const exactLength = (env: Env, name: string, chars: number, why: string): string => {
  const value = required(env, name, why);
  if (value.length !== chars) throw new ConfigError(`${name} must be ${chars} characters`);
  return value;
};

const wechatV2 = (env: Env): WechatConfig['v2'] => {
  const signType = read(env, 'WECHAT_SIGN_TYPE') ?? 'HMAC-SHA256';
  if (signType !== 'MD5' && signType !== 'HMAC-SHA256')
    throw new ConfigError('WECHAT_SIGN_TYPE must be MD5 or HMAC-SHA256');
  const certPem = secret(env, 'WECHAT_CLIENT_CERT');
  const keyPem = secret(env, 'WECHAT_CLIENT_KEY');
  const clientCertificate = certPem !== null && keyPem !== null ? { certPem, keyPem } : null;
  return {
    apiKey: exactLength(env, 'WECHAT_API_KEY', 32, 'for WeChat Pay v2'),
    signType,
    clientCertificate,
  };
};

/** WECHAT_PLATFORM_CERTS: `serial=path,serial=path` (several while WeChat rotates certificates). */
const platformKeys = (env: Env): Map<string, KeyObject> => {
  const pairs = required(env, 'WECHAT_PLATFORM_CERTS', 'for WeChat Pay v3').split(',');
  const keys = new Map<string, KeyObject>();
  for (const pair of pairs) {
    const [serial = '', path = ''] = pair.split('=').map((part) => part.trim());
    if (serial === '' || path === '')
      throw new ConfigError('WECHAT_PLATFORM_CERTS must be serial=path pairs separated by commas');
    keys.set(
      serial,
      keyOf({ CERT_FILE: path }, 'CERT', 'in WECHAT_PLATFORM_CERTS', platformKeyFromPem),
    );
  }
  return keys;
};

const wechat = (env: Env): WechatConfig | null => {
  const appId = read(env, 'WECHAT_APP_ID');
  if (appId === null) return null;
  const apiVersion = read(env, 'WECHAT_API_VERSION') ?? 'v2';
  if (apiVersion !== 'v2' && apiVersion !== 'v3')
    throw new ConfigError('WECHAT_API_VERSION must be v2 or v3');
  const v3 =
    apiVersion === 'v3' ||
    read(env, 'WECHAT_APIV3_KEY') !== null ||
    read(env, 'WECHAT_APIV3_KEY_FILE') !== null;
  return {
    apiVersion,
    appId,
    mchId: required(env, 'WECHAT_MCH_ID', 'with WECHAT_APP_ID'),
    baseUrl: read(env, 'WECHAT_API_BASE_URL') ?? 'https://api.mch.weixin.qq.com',
    notifyUrl: required(env, 'WECHAT_NOTIFY_URL', 'with WECHAT_APP_ID'),
    v2:
      apiVersion === 'v2' ||
      read(env, 'WECHAT_API_KEY') !== null ||
      read(env, 'WECHAT_API_KEY_FILE') !== null
        ? wechatV2(env)
        : null,
    v3: v3
      ? {
          apiV3Key: exactLength(env, 'WECHAT_APIV3_KEY', 32, 'for WeChat Pay v3'),
          merchantPrivateKey: keyOf(
            env,
            'WECHAT_MERCHANT_PRIVATE_KEY',
            'for WeChat Pay v3',
            (pem) => createPrivateKey(pem),
          ),
          merchantSerialNo: required(env, 'WECHAT_MERCHANT_SERIAL_NO', 'for WeChat Pay v3'),
          platformKeys: platformKeys(env),
        }
      : null,
  };
};

const alipay = (env: Env): AlipayConfig | null => {
  const appId = read(env, 'ALIPAY_APP_ID');
  if (appId === null) return null;
  return {
    appId,
    gatewayUrl: read(env, 'ALIPAY_GATEWAY_URL') ?? 'https://openapi.alipay.com/gateway.do',
    notifyUrl: required(env, 'ALIPAY_NOTIFY_URL', 'with ALIPAY_APP_ID'),
    appPrivateKey: keyOf(env, 'ALIPAY_APP_PRIVATE_KEY', 'with ALIPAY_APP_ID', (pem) =>
      createPrivateKey(pem),
    ),
    alipayPublicKey: keyOf(env, 'ALIPAY_PUBLIC_KEY', 'with ALIPAY_APP_ID', platformKeyFromPem),
  };
};

const stripe = (env: Env): StripeConfig | null => {
  const secrets = secret(env, 'STRIPE_WEBHOOK_SECRETS');
  const secretKey = secret(env, 'STRIPE_SECRET_KEY');
  if (secrets === null && secretKey === null) return null;
  const webhookSecrets = (secrets ?? '')
    .split(',')
    .map((value) => value.trim())
    .filter((value) => value !== '');
  if (webhookSecrets.length === 0)
    throw new ConfigError('STRIPE_WEBHOOK_SECRETS is required with STRIPE_SECRET_KEY');
  return {
    secretKey,
    webhookSecrets,
    baseUrl: read(env, 'STRIPE_API_BASE_URL') ?? 'https://api.stripe.com',
  };
};

/** Reads and checks every channel's variables; throws ConfigError naming the first bad one. */
const flag = (env: Env, name: string, unset = false): boolean => {
  const text = read(env, name);
  if (text === null) return unset;
  if (text === 'false') return false;
  if (text === 'true') return true;
  throw new ConfigError(`${name} must be true or false, got '${text}'`);
};

export const loadChannelConfig = (env: Env): ChannelConfig => ({
  wechat: wechat(env),
  alipay: alipay(env),
  stripe: stripe(env),
  sandboxFailRefunds: flag(env, 'SANDBOX_FAIL_REFUNDS'),
  sandboxEnabled: flag(env, 'SANDBOX_ENABLED', true),
});
