import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpWebhookSender } from '../../../adapters/webhooks/http.webhook-sender';

/**
 * The SSRF guard: without the allow-list the sender refuses private, loopback and link-local
 * targets, by literal address or by what a name resolves to, before connecting; with
 * 127.0.0.1/32 allowed it reaches a local receiver, never follows its redirect, and gives up at
 * its timeout.
 */
type Received = { path: string; headers: Record<string, string | string[] | undefined> };

const startReceiver = async (
  handle: (path: string) => { status: number; headers?: Record<string, string> } | 'hang',
) => {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    received.push({ path: request.url ?? '', headers: request.headers });
    request.resume();
    const answer = handle(request.url ?? '');
    if (answer === 'hang') return;
    response.writeHead(answer.status, answer.headers).end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    received,
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};

const request = (url: string) => ({
  url,
  headers: { 'content-type': 'application/json' },
  body: '{}',
});

describe('HTTP webhook sender: SSRF guard', () => {
  const guarded = createHttpWebhookSender({
    allowedTargets: [],
    timeoutMs: 2000,
    responseBytesMax: 1024,
    // Names resolve as an attacker's DNS would answer; nothing reaches a real resolver.
    resolve: (host) =>
      Promise.resolve(
        host === 'rebind.example'
          ? [
              { address: '93.184.215.14', family: 4 },
              { address: '10.1.2.3', family: 4 },
            ]
          : host === 'localhost'
            ? [{ address: '127.0.0.1', family: 4 }]
            : [{ address: '169.254.169.254', family: 4 }],
      ),
  });

  it.each([
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254'],
    ['http://10.0.0.1/', '10.0.0.1'],
    ['http://192.168.1.10:8080/', '192.168.1.10'],
    ['http://localhost:3000/hooks', '127.0.0.1'],
    ['http://[::1]/', '::1'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1'],
    ['http://metadata.internal/', '169.254.169.254'],
    ['http://rebind.example/', '10.1.2.3'],
  ])('refuses %s without sending', async (url, address) => {
    const refusal = await guarded.refusal(url);
    expect(refusal).toContain(`address ${address} is private, loopback or link-local`);
    await expect(guarded.send(request(url))).resolves.toEqual({
      ok: false,
      httpStatus: null,
      error: refusal,
    });
  });

  it('refuses other schemes and credentials in the URL', async () => {
    await expect(guarded.refusal('file:///etc/passwd')).resolves.toBe('only http and https URLs');
    await expect(guarded.refusal('https://user:pw@hooks.example/')).resolves.toBe(
      'credentials in the URL',
    );
    await expect(guarded.refusal('not a url')).resolves.toBe('not a URL');
  });

  it('accepts a public address', async () => {
    await expect(guarded.refusal('https://93.184.215.14/hooks')).resolves.toBeNull();
  });

  it('refuses a loopback receiver that is really there, which the allow-list then admits', async () => {
    const receiver = await startReceiver(() => ({ status: 200 }));
    try {
      const refused = await guarded.send(request(receiver.url('/hooks')));
      expect(refused.ok).toBe(false);
      expect(receiver.received).toHaveLength(0);

      const allowed = createHttpWebhookSender({
        allowedTargets: ['127.0.0.1/32'],
        timeoutMs: 2000,
        responseBytesMax: 1024,
      });
      await expect(allowed.send(request(receiver.url('/hooks')))).resolves.toEqual({
        ok: true,
        httpStatus: 200,
      });
      expect(receiver.received.map((seen) => seen.path)).toEqual(['/hooks']);
    } finally {
      await receiver.close();
    }
  });

  it('never follows a redirect (here to the metadata address) and gives up at its timeout', async () => {
    const receiver = await startReceiver((path) =>
      path === '/slow'
        ? 'hang'
        : { status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } },
    );
    const sender = createHttpWebhookSender({
      allowedTargets: ['127.0.0.1'],
      timeoutMs: 300,
      responseBytesMax: 1024,
    });
    try {
      await expect(sender.send(request(receiver.url('/moved')))).resolves.toEqual({
        ok: false,
        httpStatus: 302,
        error: 'HTTP 302 (redirects are not followed)',
      });
      const slow = await sender.send(request(receiver.url('/slow')));
      expect(slow).toEqual({ ok: false, httpStatus: null, error: 'no answer within 300 ms' });
      expect(receiver.received.map((seen) => seen.path)).toEqual(['/moved', '/slow']);
    } finally {
      await receiver.close();
    }
  });
});
