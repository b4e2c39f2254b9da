import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { createSqliteReadModelStore } from '../../adapters/readmodels/sqlite.read-model-store';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.port';
import type { ReadModelStore } from '../../domain/ports/read-model-store.port';
import { AUDIT_CHUNK_EVENT_COUNT } from '../../projections/audit-trail.projection';
import { queryTrail, trailItemOf, type TrailFilter } from '../../projections/audit-trail.query';
import { testContext } from '../support/ledger-harness';
import { generationOneRunner } from './support/generation-runner';
import { writeHistory } from './support/ledger-fixture';

const TRANSFER_COUNT = 150; // 450 events: the log and merchant-0 fill chunks of 256.
const NONE: TrailFilter = {
  clientId: null,
  stream: null,
  category: null,
  correlationId: null,
  from: null,
  to: null,
};

/** writeHistory, then transfers by three clients, every seventh stamped a minute early. */
const writeLog = async (): Promise<EventStore> => {
  const eventStore = createInMemoryEventStore();
  const ledger = await writeHistory(eventStore);
  for (let index = 0; index < TRANSFER_COUNT; index += 1) {
    const ms = Date.parse('2026-11-22T11:00:00.000Z') + index * 1000 - (index % 7 === 0 ? 60e3 : 0);
    const outcome = await ledger.transfers.request(
      {
        transferId: `load-${index}`,
        debitAccountId: 'clearing',
        creditAccountId: index % 2 === 0 ? 'wallet-a' : 'wallet-b',
        amountMinor: 1,
        currency: 'EUR',
        mode: 'single_phase',
        timeoutMs: null,
        reference: '',
      },
      testContext({
        correlationId: `request-${index % 40}`,
        actor: {
          clientId: index % 5 === 0 ? 'merchant-1' : 'merchant-0',
          role: 'merchant',
          ip: null,
        },
        now: new Date(ms).toISOString(),
      }),
    );
    expect(outcome.ok).toBe(true);
  }
  return eventStore;
};

/** Generation 1 folded up to untilPosition (null: the head), in batches of an odd size. */
const fold = async (eventStore: EventStore, untilPosition: bigint | null) => {
  const store = createSqliteReadModelStore({ path: ':memory:' });
  const runner = await generationOneRunner(eventStore, store, {
    batchEventCountMax: 97,
    cachedDocumentCountMax: 50,
  });
  await runner.catchUp({ untilPosition, untilTime: null }, () => undefined);
  return store;
};

/** What the trail must answer: every event folded, filtered one by one, newest first. */
const expected = (events: readonly RecordedEvent[], filter: TrailFilter) => {
  const matching = events.filter(
    (event) =>
      (filter.clientId === null || event.metadata.actor.clientId === filter.clientId) &&
      (filter.stream === null || event.stream === filter.stream) &&
      (filter.category === null || event.stream.startsWith(`${filter.category}-`)) &&
      (filter.correlationId === null || event.metadata.correlationId === filter.correlationId) &&
      (filter.from === null || event.metadata.occurredAt >= filter.from) &&
      (filter.to === null || event.metadata.occurredAt < filter.to),
  );
  return matching.reverse().map(trailItemOf);
};

const filters: [string, Partial<TrailFilter>][] = [
  ['no filter', {}],
  ['a client past one chunk', { clientId: 'merchant-0' }],
  ['a rare client', { clientId: 'merchant-1' }],
  ['an unknown client', { clientId: 'nobody' }],
  ['a category', { category: 'transfer' }],
  ['a correlation id spanning appends', { correlationId: 'request-3' }],
  ['a long stream', { stream: 'account-clearing' }],
  ['a stream and a client', { stream: 'account-wallet-a', clientId: 'merchant-1' }],
  ['a client and a category', { clientId: 'merchant-0', category: 'account' }],
  ['a category that is not the stream', { stream: 'account-clearing', category: 'transfer' }],
  ['a time range', { from: '2026-11-22T11:00:30.000Z', to: '2026-11-22T11:01:10.000Z' }],
  ['from only', { from: '2026-11-22T11:01:50.000Z' }],
  ['to only', { to: '2026-11-22T10:30:00.000Z' }],
  ['a client in a time range', { clientId: 'merchant-0', from: '2026-11-22T11:01:00.000Z' }],
  ['a time range past the log', { from: '2027-01-01T00:00:00.000Z' }],
];

describe('the audit trail, answered from the log and the facets', () => {
  let eventStore: EventStore;
  let events: readonly RecordedEvent[];
  let store: ReadModelStore;
  beforeAll(async () => {
    eventStore = await writeLog();
    events = await eventStore.readAll({ afterPosition: null, eventCountMax: 10_000 });
    expect(events.length).toBeGreaterThan(AUDIT_CHUNK_EVENT_COUNT);
    store = await fold(eventStore, null);
  });

  it.each(filters)('pages through %s as a filter over every event would', async (_what, given) => {
    const filter = { ...NONE, ...given };
    const all = expected(events, filter);
    for (const window of [
      { offset: 0, limit: 20 },
      { offset: 20, limit: 100 },
      { offset: 250, limit: 30 },
      { offset: Math.max(all.length - 7, 0), limit: 10 },
      { offset: all.length, limit: 10 },
    ]) {
      const page = await queryTrail({ eventStore, store, generation: 1 }, filter, window);
      expect(page.totalCount).toBe(all.length);
      expect(page.items).toEqual(all.slice(window.offset, window.offset + window.limit));
    }
  });

  it('shows a point-in-time generation as the log was then, streams included', async () => {
    const until = events[300]?.position ?? null;
    const snapshot = await fold(eventStore, until);
    const folded = events.filter((event) => until !== null && event.position <= until);
    for (const given of [{}, { stream: 'account-clearing' }, { clientId: 'merchant-0' }]) {
      const filter = { ...NONE, ...given };
      const page = await queryTrail({ eventStore, store: snapshot, generation: 1 }, filter, {
        offset: 0,
        limit: 5,
      });
      const all = expected(folded, filter);
      expect(page).toEqual({ items: all.slice(0, 5), totalCount: all.length });
    }
  });
});
