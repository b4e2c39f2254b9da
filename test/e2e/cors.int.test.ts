import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import {
  freePort,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * CORS in headless Chromium: a merchant's page on another origin (a second local port, listed in
 * CORS_ALLOWED_ORIGINS) reads the payer's status route, and the browser refuses it any other
 * route; a page on an origin not listed is refused the status route too.
 */
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

/** A page server: every path answers an empty HTML page (the test runs its script in it). */
const startPageServer = async (): Promise<{ origin: string; server: Server }> => {
  const port = await freePort();
  const server = createServer((_request, response) => {
    response
      .writeHead(200, { 'Content-Type': 'text/html' })
      .end('<!doctype html><title>shop</title>');
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${port}`, server };
};

type FetchResult = { ok: true; status: number; body: unknown } | { ok: false; error: string };

describe('CORS for the payer status route in a real browser', () => {
  jest.setTimeout(120_000);
  let dataDir: string;
  let service: ServiceProcess;
  let browser: Browser;
  let shop: { origin: string; server: Server };
  let stranger: { origin: string; server: Server };

  beforeAll(async () => {
    shop = await startPageServer();
    stranger = await startPageServer();
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-cors-'));
    service = await startServiceProcess(dataDir, await freePort(), {
      CORS_ALLOWED_ORIGINS: `https://elsewhere.example,${shop.origin}`,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
    service?.child.kill('SIGKILL');
    shop?.server.close();
    stranger?.server.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const createPayment = async (merchantOrderNo: string) => {
    await postJson(service.baseUrl, '/v1/accounts', {
      accountId: `wallet-${merchantOrderNo}`,
      currency: 'EUR',
    });
    const created = await postJson(service.baseUrl, '/v1/payments', {
      merchantOrderNo,
      amountMinor: 500,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'top-up',
      creditAccountId: `wallet-${merchantOrderNo}`,
    });
    expect(created.status).toBe(201);
    const paymentId = (created.body.data['payment'] as { paymentId: string }).paymentId;
    return { paymentId, ticket: String(created.body.data['statusTicket']) };
  };

  /** fetch() from a page of `origin`: the answer, or the browser's refusal. */
  const fetchFrom = async (origin: string, url: string): Promise<FetchResult> => {
    const page = await browser.newPage();
    try {
      await page.goto(`${origin}/checkout`);
      return await page.evaluate(async (target: string): Promise<FetchResult> => {
        try {
          const response = await fetch(target);
          return { ok: true, status: response.status, body: await response.json() };
        } catch (error: unknown) {
          return { ok: false, error: String(error) };
        }
      }, url);
    } finally {
      await page.close();
    }
  };

  it('lets the allowed origin read the status route and refuses it every other route', async () => {
    const { paymentId, ticket } = await createPayment('cors-1');
    const status = await fetchFrom(
      shop.origin,
      `${service.baseUrl}/v1/payments/${paymentId}/status?ticket=${encodeURIComponent(ticket)}`,
    );
    expect(status).toMatchObject({
      ok: true,
      status: 200,
      body: { code: 0, data: { paymentId, status: 'pending', amountMinor: 500 } },
    });
    // A route without CORS: the service answers, but the browser keeps it from the page.
    for (const path of ['/v1/health', `/v1/payments/${paymentId}`, '/v1/accounts']) {
      const refused = await fetchFrom(shop.origin, `${service.baseUrl}${path}`);
      expect(refused).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
    }
  });

  it('refuses the status route to an origin that is not listed', async () => {
    const { paymentId, ticket } = await createPayment('cors-2');
    const refused = await fetchFrom(
      stranger.origin,
      `${service.baseUrl}/v1/payments/${paymentId}/status?ticket=${encodeURIComponent(ticket)}`,
    );
    expect(refused).toEqual({ ok: false, error: 'TypeError: Failed to fetch' });
  });

  it('answers the preflight of the status route for an allowed origin only', async () => {
    const preflight = (origin: string, path: string) =>
      fetch(`${service.baseUrl}${path}`, {
        method: 'OPTIONS',
        headers: { Origin: origin, 'Access-Control-Request-Method': 'GET' },
      });
    const allowed = await preflight(shop.origin, '/v1/payments/p1/status');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(shop.origin);
    expect(allowed.headers.get('access-control-allow-methods')).toBe('GET');
    expect(allowed.headers.get('vary')).toContain('Origin');
    const notListed = await preflight(stranger.origin, '/v1/payments/p1/status');
    expect(notListed.status).toBe(204);
    expect(notListed.headers.get('access-control-allow-origin')).toBeNull();
    const otherRoute = await preflight(shop.origin, '/v1/accounts');
    expect(otherRoute.headers.get('access-control-allow-origin')).toBeNull();
    const health = await fetch(`${service.baseUrl}/v1/health`, {
      headers: { Origin: shop.origin },
    });
    expect([...health.headers.keys()].filter((name) => name.startsWith('access-control'))).toEqual(
      [],
    );
  });
});
