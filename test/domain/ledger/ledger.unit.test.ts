import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import type { LedgerRequest } from '../../../domain/ledger/ledger';
import type { LedgerOutcome } from '../../../domain/ledger/ledger.decider';
import { UnavailableError, type EventStore } from '../../../domain/ports/event-store.port';
import type { TransferTerms } from '../../../domain/transfer/transfer.decider';
import { balanceOf, createLedger, openAccount, testContext } from '../../support/ledger-harness';

const terms = (transferId: string, amountMinor = 100): TransferTerms => ({
  transferId,
  debitAccountId: 'a',
  creditAccountId: 'b',
  amountMinor,
  currency: 'EUR',
  mode: 'single_phase',
  timeoutMs: null,
  reference: '',
});

const createRequest = (transferId: string, key: string | null = null): LedgerRequest => ({
  commands: [{ command: { type: 'CreateTransfer', data: terms(transferId) }, linked: false }],
  context: testContext(),
  idempotency:
    key === null
      ? null
      : {
          scope: 'admin POST /v1/transfers',
          key,
          fingerprint: `body-of-${transferId}`,
          createdAtMs: 0,
          respond: (outcomes: readonly LedgerOutcome[]) => ({
            status: outcomes[0]?.ok === true ? 201 : 422,
            body: { code: 0, msg: 'ok', data: { transferId, position: null } },
            headers: {},
          }),
        },
});

/** The in-memory store, counting appendMulti calls and failing them on demand. */
const countingStore = () => {
  const inner = createInMemoryEventStore();
  const counts = { appendMulti: 0, failNext: false };
  const store: EventStore = {
    ...inner,
    appendMulti: (appends, records) => {
      counts.appendMulti += 1;
      if (counts.failNext) {
        counts.failNext = false;
        return Promise.reject(new UnavailableError('disk gone'));
      }
      return inner.appendMulti(appends, records);
    },
  };
  return { store, counts };
};

const transferEvents = async (store: EventStore, transferId: string) =>
  (
    await store.readStream(`transfer-${transferId}`, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 100,
    })
  ).map((event) => event.type);

describe('the ledger actor', () => {
  it('decides the requests that queued together and writes them in one append', async () => {
    const { store, counts } = countingStore();
    const harness = createLedger(store);
    await openAccount(harness, 'a');
    await openAccount(harness, 'b');
    const before = counts.appendMulti;
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, index) => harness.ledger.execute(createRequest(`t${index}`))),
    );
    expect(replies.every((reply) => reply.kind === 'decided')).toBe(true);
    // The first request starts a batch alone; the 49 that queued meanwhile go in the next one.
    expect(counts.appendMulti - before).toBe(2);
    expect(await balanceOf(harness, 'b')).toBe(5000);
  });

  it('creates a transfer id sent to two instances once', async () => {
    const store = createInMemoryEventStore();
    const first = createLedger(store);
    await openAccount(first, 'a');
    await openAccount(first, 'b');
    const second = createLedger(store);
    const [one, two] = await Promise.all([
      first.transfers.request(terms('same'), testContext()),
      second.transfers.request(terms('same'), testContext()),
    ]);
    expect([one.ok, two.ok]).toEqual([true, true]);
    expect(await transferEvents(store, 'same')).toEqual(['TransferCreated']);
    const other = await second.transfers.request(terms('same', 999), testContext());
    expect(other).toMatchObject({
      ok: false,
      rejection: 'transfer_id_conflict',
      detail: { field: 'amountMinor' },
    });
    expect(await balanceOf(createLedger(store), 'b')).toBe(100);
  });

  it('commits the Idempotency-Key with the events; another instance with the key replays it', async () => {
    const store = createInMemoryEventStore();
    const first = createLedger(store);
    await openAccount(first, 'a');
    await openAccount(first, 'b');
    const decided = await first.ledger.execute(createRequest('keyed', 'key-1'));
    expect(decided).toMatchObject({ kind: 'decided', response: { status: 201 } });
    const record = await store.readIdempotencyRecord('admin POST /v1/transfers', 'key-1');
    expect(record).toMatchObject({ fingerprint: 'body-of-keyed', response: { status: 201 } });
    if (decided.kind === 'decided') expect(record?.position).toBe(decided.position);
    const replayed = await createLedger(store).ledger.execute(
      createRequest('keyed-again', 'key-1'),
    );
    expect(replayed).toMatchObject({ kind: 'replay', record: { fingerprint: 'body-of-keyed' } });
    expect(await transferEvents(store, 'keyed-again')).toEqual([]);
  });

  it('fails the batch on a storage fault, keeps nothing of it, and goes on', async () => {
    const { store, counts } = countingStore();
    const harness = createLedger(store);
    await openAccount(harness, 'a');
    await openAccount(harness, 'b');
    counts.failNext = true;
    await expect(harness.ledger.execute(createRequest('lost'))).rejects.toThrow(UnavailableError);
    expect(await transferEvents(store, 'lost')).toEqual([]);
    expect(await balanceOf(harness, 'b')).toBe(0);
    const retried = await harness.transfers.request(terms('lost'), testContext());
    expect(retried).toMatchObject({ ok: true, transfer: { status: 'posted' } });
    expect(await balanceOf(harness, 'b')).toBe(100);
  });
});
