import { BlockList, isIP } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { Middleware } from 'koa';

/**
 * Who the client is behind reverse proxies. One setting, TRUSTED_PROXIES (IPs and CIDRs), says
 * whose X-Forwarded-For and X-Forwarded-Proto are believed: a request from an untrusted peer is
 * taken at its socket's address whatever headers it sends; from a trusted peer, X-Forwarded-For
 * is walked from the right (the entry the nearest proxy appended) past every trusted hop, and
 * the first untrusted address is the client. Koa's own `app.proxy` (which believes the leftmost
 * entry, the one any client can write) stays off.
 */
export type ProxyTrust = { trusts: (address: string) => boolean; entryCount: number };

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
const normalized = (address: string): string => {
  const trimmed = address.trim();
  return trimmed.startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
};

/** Builds the trust from `10.0.0.0/8`, `192.168.1.10`, `fd00::/8` entries; throws naming a bad one. */
export const proxyTrustOf = (entries: readonly string[]): ProxyTrust => {
  const trusted = new BlockList();
  for (const entry of entries) {
    const [address = '', prefixText, ...rest] = entry.split('/');
    const family = isIP(address);
    const prefix = prefixText === undefined ? null : Number(prefixText);
    const prefixMax = family === 6 ? 128 : 32;
    const valid =
      family !== 0 &&
      rest.length === 0 &&
      (prefix === null ||
        (/^\d{1,3}$/.test(prefixText ?? '') && prefix >= 0 && prefix <= prefixMax));
    if (!valid) throw new Error(`'${entry}' is not an IP address or CIDR block`);
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (prefix === null) trusted.addAddress(address, type);
    else trusted.addSubnet(address, prefix, type);
  }
  return {
    entryCount: entries.length,
    trusts: (address) => {
      const family = isIP(address);
      return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
    },
  };
};

const headerValues = (header: string): string[] =>
  header === '' ? [] : header.split(',').map((value) => value.trim());

/** Sets ctx.ip, and ctx.protocol / ctx.secure, from the socket and the trusted proxies. */
export const clientAddress =
  (trust: ProxyTrust): Middleware =>
  (ctx, next) => {
    const socket = ctx.req.socket as Partial<TLSSocket>;
    const peer = normalized(ctx.req.socket.remoteAddress ?? '');
    ctx.request.ip = peer;
    // No trusted proxy: Koa's own protocol (the socket's, app.proxy being off) is the answer.
    if (trust.entryCount === 0 || !trust.trusts(peer)) return next();
    let ip = peer;
    let protocol = socket.encrypted === true ? 'https' : 'http';
    const hops = headerValues(ctx.get('x-forwarded-for'));
    for (let index = hops.length - 1; index >= 0; index -= 1) {
      const hop = normalized(hops[index] ?? '');
      if (isIP(hop) === 0) break; // Unparseable (a port, "unknown"): nothing further is known.
      ip = hop;
      if (!trust.trusts(hop)) break;
    }
    // The nearest proxy's word (the last value): earlier ones may come from the client.
    const forwardedProto = headerValues(ctx.get('x-forwarded-proto')).pop()?.toLowerCase();
    if (forwardedProto === 'https' || forwardedProto === 'http') protocol = forwardedProto;
    ctx.request.ip = ip;
    Object.defineProperty(ctx.request, 'protocol', { value: protocol, configurable: true });
    return next();
  };

/**
 * Strict-Transport-Security on every answer over HTTPS (directly or through a trusted proxy),
 * never over plain HTTP (RFC 6797 §7.2). maxAgeS 0 sends none.
 */
export const strictTransportSecurity =
  (maxAgeS: number): Middleware =>
  (ctx, next) => {
    if (maxAgeS > 0 && ctx.secure)
      ctx.set('Strict-Transport-Security', `max-age=${maxAgeS}; includeSubDomains`);
    return next();
  };
