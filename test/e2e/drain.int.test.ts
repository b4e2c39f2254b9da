import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_KEY, freePort, postJson, startServiceProcess } from '../support/service-process';

/** DRAIN_TIMEOUT_MS's default (bin/config-variables.ts), and the margin a loaded machine needs. */
const DRAIN_MS_MAX = 10_000;
const EXIT_MARGIN_MS = 10_000;

describe('stopping with an SSE stream open', () => {
  jest.setTimeout(60_000);

  it('exits 0 within the drain bound on SIGTERM, closing the stream', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-drain-'));
    const service = await startServiceProcess(dataDir, await freePort());
    try {
      const opened = await postJson(service.baseUrl, '/v1/accounts', {
        accountId: 'watched',
        currency: 'EUR',
      });
      expect(opened.status).toBe(201);
      // An SSE client that never hangs up; the stop is asked once its first event (the current
      // view) shows the stream is open.
      const streamEnded = new Promise<{ received: string }>((resolve, reject) => {
        const client = request(`${service.baseUrl}/v1/events/accounts/watched`, {
          headers: { Authorization: `Bearer ${ADMIN_KEY}` },
        });
        client.on('error', reject);
        client.on('response', (response) => {
          let received = '';
          response.on('data', (chunk: Buffer) => {
            const seenBefore = received.includes('event: account');
            received += chunk.toString();
            if (!seenBefore && received.includes('event: account')) service.child.kill('SIGTERM');
          });
          response.on('close', () => resolve({ received }));
        });
        client.end();
      });
      const stopAsked = Date.now();
      const [{ received }, exitCode] = await Promise.all([streamEnded, service.exited]);
      expect(received).toContain('event: account');
      expect(exitCode).toBe(0);
      expect(Date.now() - stopAsked).toBeLessThan(DRAIN_MS_MAX + EXIT_MARGIN_MS);
    } finally {
      if (service.child.exitCode === null) service.child.kill('SIGKILL');
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
