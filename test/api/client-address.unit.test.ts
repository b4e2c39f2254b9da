import Koa from 'koa';
import request from 'supertest';
import {
  clientAddress,
  proxyTrustOf,
  strictTransportSecurity,
} from '../../api/middleware/client-address';

/** An app that answers what it believes about the client (supertest connects from 127.0.0.1). */
const appTrusting = (entries: readonly string[]) => {
  const app = new Koa();
  app.use(clientAddress(proxyTrustOf(entries)));
  app.use(strictTransportSecurity(600));
  app.use((ctx) => {
    ctx.body = { ip: ctx.ip, protocol: ctx.protocol, secure: ctx.secure };
  });
  return app.callback();
};

describe('trusted proxies', () => {
  it('ignores X-Forwarded-For and -Proto from an untrusted peer (a spoof)', async () => {
    const response = await request(appTrusting(['10.0.0.0/8']))
      .get('/')
      .set('X-Forwarded-For', '203.0.113.9')
      .set('X-Forwarded-Proto', 'https');
    expect(response.body).toEqual({ ip: '127.0.0.1', protocol: 'http', secure: false });
    expect(response.headers['strict-transport-security']).toBeUndefined();
  });

  it('walks X-Forwarded-For from the right past trusted hops: a client-written entry is not believed', async () => {
    // The client wrote 1.1.1.1; the edge proxy (10.0.0.2) appended the real 198.51.100.7; the
    // inner proxy at 127.0.0.1 appended 10.0.0.2.
    const response = await request(appTrusting(['127.0.0.1', '10.0.0.0/8']))
      .get('/')
      .set('X-Forwarded-For', '1.1.1.1, 198.51.100.7, 10.0.0.2')
      .set('X-Forwarded-Proto', 'https');
    expect(response.body).toEqual({ ip: '198.51.100.7', protocol: 'https', secure: true });
    expect(response.headers['strict-transport-security']).toBe('max-age=600; includeSubDomains');
  });

  it('takes the leftmost address when every hop is trusted, and the last X-Forwarded-Proto', async () => {
    const response = await request(appTrusting(['127.0.0.0/8', '10.0.0.0/8']))
      .get('/')
      .set('X-Forwarded-For', '10.1.2.3, 10.0.0.2')
      .set('X-Forwarded-Proto', 'https, http');
    expect(response.body).toEqual({ ip: '10.1.2.3', protocol: 'http', secure: false });
  });

  it('stops at an entry that is not an address', async () => {
    const response = await request(appTrusting(['127.0.0.1']))
      .get('/')
      .set('X-Forwarded-For', '198.51.100.7, unknown');
    expect(response.body).toMatchObject({ ip: '127.0.0.1' });
  });

  it('matches IPv6 blocks and refuses entries that are not addresses or CIDR blocks', () => {
    const trust = proxyTrustOf(['fd00::/8', '192.168.1.10']);
    expect(trust.trusts('fd12::1')).toBe(true);
    expect(trust.trusts('192.168.1.10')).toBe(true);
    expect(trust.trusts('192.168.1.11')).toBe(false);
    expect(trust.trusts('not-an-ip')).toBe(false);
    for (const bad of ['proxy.local', '10.0.0.0/33', '10.0.0.0/8/1', '10.0.0.0/x'])
      expect(() => proxyTrustOf([bad])).toThrow(`'${bad}' is not an IP address or CIDR block`);
  });
});
