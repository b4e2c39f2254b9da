import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { auditBalances } from '../../bin/audit-cli';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import { eventually } from '../support/eventually';
import { freePort, getJson, postJson, startServiceProcess } from '../support/service-process';

/**
 * kill -9 in the middle of a flash sale (buyers racing for the units, some paying at once), then
 * a restart on the same data dir: every hold a buyer saw acknowledged is there, the paid ones end
 * sold, the unpaid ones are released by the deadlines rebuilt from the log, and per unit of the
 * item Σ credits − Σ debits over its accounts is 0 (issuance, stock, buyers).
 */
const SECRET = 'sale-crash-sandbox-secret';
const ENV = { SANDBOX_CALLBACK_SECRET: SECRET };
const STOCK_UNITS = 40;
const BUYER_COUNT = 150;
const CONCURRENCY = 24;
const KILL_AFTER_HOLDS = 25;
/** Long enough for a restart on a loaded machine before the paid holds' payments expire. */
const HOLD_TIMEOUT_MS = 20_000;

type Order = { status: string; paymentId: string | null };

const pay = async (baseUrl: string, paymentId: string): Promise<boolean> => {
  const raw = JSON.stringify({
    event: 'payment.succeeded',
    paymentId,
    channelTransactionId: `tx-${paymentId}`,
    amountMinor: 500,
    currency: 'EUR',
  });
  const response = await fetch(`${baseUrl}/v1/channels/sandbox/callbacks`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'sandbox-signature': signSandboxCallback(SECRET, Buffer.from(raw), Date.now()),
    },
    body: raw,
  });
  return response.status === 200;
};

describe('flash sale: kill -9 mid-sale', () => {
  jest.setTimeout(90_000);

  it('keeps holds and stock consistent after a restart, Σ = 0 per unit', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'sale-crash-'));
    const port = await freePort();
    const first = await startServiceProcess(dataDir, port, ENV);
    const startsAtMs = Date.now() + 1500;
    const created = await postJson(first.baseUrl, '/v1/items', {
      itemId: 'drop',
      name: 'Drop',
      priceMinor: 500,
      currency: 'EUR',
      stockUnits: STOCK_UNITS,
      startsAt: new Date(startsAtMs).toISOString(),
      endsAt: new Date(startsAtMs + 3600_000).toISOString(),
      holdTimeoutMs: HOLD_TIMEOUT_MS,
    });
    expect(created.status).toBe(201);
    await eventually(() => (Date.now() >= startsAtMs ? true : undefined), {
      timeoutMs: 5000,
      what: 'the sale to start',
    });

    const held: string[] = [];
    const paid: string[] = [];
    const payments: Promise<void>[] = [];
    const failures: string[] = [];
    let next = 0;
    let killed = false;
    const worker = async (): Promise<void> => {
      while (!killed && next < BUYER_COUNT) {
        const buyerId = `b${next++}`;
        try {
          const answer = await postJson(first.baseUrl, '/v1/items/drop/purchases', { buyerId });
          if (answer.status !== 201) continue;
          held.push(buyerId);
          const order = answer.body.data['order'] as Order;
          if (held.length % 3 === 0 && order.paymentId !== null) {
            const paymentId = order.paymentId;
            payments.push(
              pay(first.baseUrl, paymentId).then(
                (ok) => void (ok && paid.push(buyerId)),
                () => undefined,
              ),
            );
          }
          if (held.length >= KILL_AFTER_HOLDS && !killed) {
            killed = true;
            first.child.kill('SIGKILL');
          }
        } catch (error: unknown) {
          if (killed) return; // The connection died with the process.
          failures.push(String(error));
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    await Promise.all(payments);
    if (!killed) first.child.kill('SIGKILL'); // Never leave it running, whatever happened.
    await first.exited;
    expect({ held: held.length, failures: failures.slice(0, 3) }).toEqual({
      held: expect.any(Number),
      failures: [],
    });
    expect(held.length).toBeGreaterThanOrEqual(KILL_AFTER_HOLDS);

    const second = await startServiceProcess(dataDir, port, ENV);
    try {
      await checkAfterRestart(second.baseUrl, held, paid);
    } finally {
      second.child.kill('SIGTERM');
    }
    expect(await second.exited).toBe(0);
    const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
    try {
      const report = await auditBalances(store);
      const units = report.currencies.find((totals) => totals.currency === 'unit:drop');
      expect(units).toMatchObject({ debitsPendingMinor: 0n, creditsPendingMinor: 0n });
      expect(units?.creditsPostedMinor).toBe(units?.debitsPostedMinor);
      expect(report.openTransferCount).toBe(0);
      expect(report.balanced).toBe(true);
    } finally {
      await store.close();
    }
  });
});

/** Every acknowledged hold survived; the unpaid ones are released, the paid ones sold. */
const checkAfterRestart = async (
  baseUrl: string,
  held: readonly string[],
  paid: readonly string[],
): Promise<void> => {
  const orderOf = async (buyerId: string): Promise<Order | null> => {
    const found = await getJson(baseUrl, `/v1/items/drop/purchases/${buyerId}`);
    return found.status === 200 ? (found.body.data['order'] as Order) : null;
  };
  // Every acknowledged hold survived the kill.
  for (const buyerId of held) expect(await orderOf(buyerId)).not.toBeNull();
  // The deadlines, rebuilt from the log, release every unpaid hold; paid ones end sold.
  const stock = await eventually(
    async () => {
      const item = await getJson(baseUrl, '/v1/items/drop');
      const view = (item.body.data['item'] as { stock: Record<string, number> }).stock;
      return view['heldUnits'] === 0 ? view : undefined;
    },
    { timeoutMs: HOLD_TIMEOUT_MS + 20_000, what: 'every hold settled or released' },
  );
  const orders = await Promise.all(
    Array.from({ length: BUYER_COUNT }, (_, index) => orderOf(`b${index}`)),
  );
  const paidOrders = orders.filter((order) => order?.status === 'paid').length;
  for (const buyerId of paid) expect((await orderOf(buyerId))?.status).toBe('paid');
  expect(stock).toEqual({
    availableUnits: STOCK_UNITS - paidOrders,
    heldUnits: 0,
    soldUnits: paidOrders,
    restockedUnits: STOCK_UNITS,
  });
  expect(orders.filter((order) => order !== null).length).toBeLessThanOrEqual(STOCK_UNITS);
};
