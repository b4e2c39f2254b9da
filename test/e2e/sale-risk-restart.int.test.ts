import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseStored, type StoredEvent } from '../../domain/aggregate';
import { riskAttemptsAggregate, riskAttemptsIdOf } from '../../domain/risk/risk-attempts';
import { eventually } from '../support/eventually';
import { ADMIN_KEY, freePort, postJson, startServiceProcess } from '../support/service-process';

/**
 * The risk counters across a kill -9: the velocity windows come back from the attempts journal
 * (riskattempts-<hour>), the daily amount from the buyers' days (buyerday-<buyer>.<day>).
 */
const PRICE_MINOR = 500;

const item = (itemId: string, startsAtMs: number) => ({
  itemId,
  name: itemId,
  priceMinor: PRICE_MINOR,
  currency: 'EUR',
  stockUnits: 10,
  startsAt: new Date(startsAtMs).toISOString(),
  endsAt: new Date(startsAtMs + 3600_000).toISOString(),
});

/** The attempts of a buyer the journal holds for the hours around now (the export reads the log). */
const journaledAttempts = async (baseUrl: string, buyerId: string): Promise<number> => {
  let count = 0;
  const hours = new Set([riskAttemptsIdOf(Date.now() - 60_000), riskAttemptsIdOf(Date.now())]);
  for (const hour of hours) {
    const response = await fetch(`${baseUrl}/v1/audit/events?stream=riskattempts-${hour}`, {
      headers: { authorization: `Bearer ${ADMIN_KEY}` },
    });
    const lines = (await response.text()).split('\n').filter((line) => line.length > 0);
    for (const line of lines) {
      const { attempts } = parseStored(riskAttemptsAggregate, JSON.parse(line) as StoredEvent).data;
      count += attempts.filter((attempt) => attempt.buyerId === buyerId).length;
    }
  }
  return count;
};

/** The frames of an SSE stream so far, and a hang-up. */
const openSse = (baseUrl: string, path: string): { received: () => string; hangUp: () => void } => {
  let received = '';
  const client = request(`${baseUrl}${path}`, {
    headers: { Authorization: `Bearer ${ADMIN_KEY}` },
  });
  client.on('error', () => undefined); // The hang-up resets it.
  client.on('response', (response) =>
    response.on('data', (chunk: Buffer) => void (received += chunk.toString())),
  );
  client.end();
  return { received: () => received, hangUp: () => client.destroy() };
};

describe('flash sale: risk counters across kill -9', () => {
  jest.setTimeout(60_000);

  it('keeps a buyer over the velocity limit and the daily amount refused after a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sale-risk-'));
    const port = await freePort();
    const first = await startServiceProcess(dataDir, port, {});
    const startsAtMs = Date.now() + 1500;
    for (const itemId of ['left', 'right'])
      expect((await postJson(first.baseUrl, '/v1/items', item(itemId, startsAtMs))).status).toBe(
        201,
      );
    const rules = await fetch(`${first.baseUrl}/v1/risk-rules`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        buyerVelocity: { windowMs: 600_000, attemptsMax: 2 },
        buyerDailyAmounts: [{ currency: 'EUR', amountMinorMax: PRICE_MINOR + 100 }],
      }),
    });
    expect(rules.status).toBe(200);
    await eventually(() => (Date.now() >= startsAtMs ? true : undefined), {
      timeoutMs: 5000,
      what: 'the sale to start',
    });
    const buy = (baseUrl: string, buyerId: string, itemId: string) =>
      postJson(baseUrl, `/v1/items/${itemId}/purchases`, { buyerId });
    expect((await buy(first.baseUrl, 'fast', 'left')).status).toBe(201);
    expect((await buy(first.baseUrl, 'fast', 'left')).body.code).toBe(40933);
    expect((await buy(first.baseUrl, 'spender', 'left')).status).toBe(201);
    await eventually(
      async () => ((await journaledAttempts(first.baseUrl, 'fast')) === 2 ? true : undefined),
      { timeoutMs: 5000, what: 'both attempts of the fast buyer journaled' },
    );
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startServiceProcess(dataDir, port, {});
    // The sale's progress, live: the stock account's counters at every change.
    const progress = openSse(second.baseUrl, '/v1/events/accounts/stock-right');
    try {
      const velocity = await buy(second.baseUrl, 'fast', 'right');
      expect([velocity.status, velocity.body.code]).toEqual([429, 70002]);
      const daily = await buy(second.baseUrl, 'spender', 'right');
      expect([daily.status, daily.body.code]).toEqual([403, 70006]);
      expect((await buy(second.baseUrl, 'newcomer', 'right')).status).toBe(201);
      await eventually(
        () =>
          progress.received().includes('"creditsPostedMinor":10,"debitsPendingMinor":1,')
            ? true
            : undefined,
        { timeoutMs: 10_000, what: `the hold on the progress stream (${progress.received()})` },
      );
    } finally {
      progress.hangUp();
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
  });
});
