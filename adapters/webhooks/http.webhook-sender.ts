import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import type { WebhookSender, WebhookSendResult } from '../../domain/ports/webhook-sender.port';

/**
 * Webhooks go to URLs merchants type in, so the service must not be turned against its own
 * network (SSRF): every address the host resolves to must be public, unless an operator's
 * allow-list names it. The request then connects to the address that was checked (no second
 * resolution a rebinding DNS could answer differently) and never follows a redirect.
 */
type HttpWebhookSenderOptions = {
  /** IP addresses or CIDR ranges reachable although private (tests: 127.0.0.1). */
  allowedTargets: readonly string[];
  timeoutMs: number;
  /** Bytes of a receiver's answer read at most (the rest is dropped). */
  responseBytesMax: number;
  /** Host resolution (tests inject one); default node's dns.lookup of every address. */
  resolve?: (host: string) => Promise<readonly LookupAddress[]>;
};

const forbidden = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  forbidden.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  forbidden.addSubnet(network, prefix, 'ipv6');

/** An IPv4-mapped IPv6 address (::ffff:10.0.0.1) is checked as the IPv4 address it maps. */
const normalise = (address: string): { address: string; family: 'ipv4' | 'ipv6' } => {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted?.[1] !== undefined) return { address: dotted[1], family: 'ipv4' };
  // The URL parser writes ::ffff:127.0.0.1 as ::ffff:7f00:1.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (hex?.[1] !== undefined && hex[2] !== undefined) {
    const high = parseInt(hex[1], 16);
    const low = parseInt(hex[2], 16);
    const octets = [high >> 8, high & 0xff, low >> 8, low & 0xff];
    return { address: octets.join('.'), family: 'ipv4' };
  }
  return { address, family: isIP(address) === 6 ? 'ipv6' : 'ipv4' };
};

const allowListOf = (targets: readonly string[]): BlockList => {
  const list = new BlockList();
  for (const target of targets) {
    const [address = '', prefix] = target.split('/');
    const family = isIP(address) === 6 ? 'ipv6' : 'ipv4';
    if (prefix === undefined) list.addAddress(address, family);
    else list.addSubnet(address, Number(prefix), family);
  }
  return list;
};

const defaultResolve = (host: string): Promise<readonly LookupAddress[]> =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true }, (error, addresses) =>
      error === null ? resolve(addresses) : reject(error),
    ),
  );

type Target = { url: URL; address: LookupAddress } | { refusal: string };

export const createHttpWebhookSender = (options: HttpWebhookSenderOptions): WebhookSender => {
  const allowed = allowListOf(options.allowedTargets);
  const resolve = options.resolve ?? defaultResolve;
  const addressRefusal = (address: string): string | null => {
    const { address: checked, family } = normalise(address);
    if (allowed.check(checked, family) || !forbidden.check(checked, family)) return null;
    return `address ${address} is private, loopback or link-local (not in WEBHOOK_ALLOWED_TARGETS)`;
  };

  const target = async (text: string): Promise<Target> => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return { refusal: 'not a URL' };
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { refusal: 'only http and https URLs' };
    if (url.username !== '' || url.password !== '') return { refusal: 'credentials in the URL' };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    let addresses: readonly LookupAddress[];
    try {
      addresses = isIP(host) === 0 ? await resolve(host) : [{ address: host, family: isIP(host) }];
    } catch (error: unknown) {
      return { refusal: `host ${host} does not resolve (${String(error)})` };
    }
    const first = addresses[0];
    if (first === undefined) return { refusal: `host ${host} has no address` };
    for (const { address } of addresses) {
      const refusal = addressRefusal(address);
      if (refusal !== null) return { refusal };
    }
    return { url, address: first };
  };

  const post = (
    url: URL,
    address: LookupAddress,
    headers: Readonly<Record<string, string>>,
    body: string,
  ): Promise<WebhookSendResult> =>
    new Promise((settle) => {
      // The connection goes to the address checked above, whatever the DNS says now.
      const pinned: LookupFunction = (_host, lookupOptions, callback) => {
        if (lookupOptions.all === true) callback(null, [address]);
        else callback(null, address.address, address.family);
      };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const outgoing = send(url, {
        method: 'POST',
        headers: { ...headers, 'content-length': Buffer.byteLength(body).toString() },
        lookup: pinned,
        agent: false,
        timeout: options.timeoutMs,
      });
      const timer = setTimeout(
        () => outgoing.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
        options.timeoutMs,
      );
      const done = (result: WebhookSendResult): void => {
        clearTimeout(timer);
        settle(result);
      };
      outgoing.on('timeout', () =>
        outgoing.destroy(new Error(`no answer within ${options.timeoutMs} ms`)),
      );
      outgoing.on('error', (error) => done({ ok: false, httpStatus: null, error: error.message }));
      outgoing.on('response', (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > options.responseBytesMax) response.destroy();
        });
        response.on('close', () => {
          if (status >= 200 && status < 300) return done({ ok: true, httpStatus: status });
          const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
          done({ ok: false, httpStatus: status, error: `HTTP ${status}${redirect}` });
        });
      });
      outgoing.end(body);
    });

  return {
    refusal: async (url) => {
      const checked = await target(url);
      return 'refusal' in checked ? checked.refusal : null;
    },
    send: async ({ url, headers, body }) => {
      const checked = await target(url);
      if ('refusal' in checked) return { ok: false, httpStatus: null, error: checked.refusal };
      return post(checked.url, checked.address, headers, body);
    },
  };
};
