import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { auditBalances } from '../../bin/audit-cli';
import Database from 'better-sqlite3';
import { accountAggregate } from '../../domain/account/account.decider';
import { parseStored, type DomainEvent, type StreamFold } from '../../domain/aggregate';
import type { EventStore } from '../../domain/ports/event-store.port';
import { TRAFFIC_SHARD_COUNT, trafficShardFold } from '../../domain/traffic/traffic.decider';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import { eventually } from '../support/eventually';
import { freePort, getJson, postJson, startServiceProcess } from '../support/service-process';

/**
 * kill -9 in the middle of a load of transfers and traffic reports, then restart on the same
 * data dir: every transfer and batch the client saw acknowledged is there with the same outcome,
 * a batch cut off by the kill is there whole or not at all (one atomic append), no transfer is
 * left open, and Σ credits − Σ debits per currency is zero;
 * every acknowledged report is counted, none twice, by the traffic shards and by the read
 * model (which resumes from its own checkpoint). Snapshots are taken every few events, so
 * after the restart accounts and traffic shards load from snapshots saved before the kill, and
 * each must equal the fold of its whole stream.
 */
const WALLET_COUNT = 20;
const TRANSFER_COUNT_MAX = 3000;
const CONCURRENCY = 32;
const KILL_AFTER_ACKNOWLEDGED = 400;
const SNAPSHOT_ENV = { SNAPSHOT_EVERY_EVENTS: '10' };
/** Every report gives each of these users one upload byte. */
const TRAFFIC_USER_IDS = Array.from({ length: 40 }, (_, index) => `tu${index}`);
const REPORT_CONCURRENCY = 4;

type Acknowledged = { transferId: string; status: string };
/** Transfers per batch request; its first two are a linked chain out of `clearing`. */
const BATCH_SIZE = 25;
const BATCH_CONCURRENCY = 4;
type BatchItem = { transferId: string; result: string; status?: string };

describe('crash recovery (kill -9 mid-load)', () => {
  jest.setTimeout(90_000);

  it('loses no acknowledged transfer and keeps the books balanced', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-crash-'));
    const port = await freePort();
    const first = await startServiceProcess(dataDir, port, SNAPSHOT_ENV);
    await postJson(first.baseUrl, '/v1/accounts', { accountId: 'clearing', currency: 'EUR' });
    for (let index = 0; index < WALLET_COUNT; index += 1) {
      await postJson(first.baseUrl, '/v1/accounts', {
        accountId: `w${index}`,
        currency: 'EUR',
        constraint: 'debits_must_not_exceed_credits',
      });
      await postJson(first.baseUrl, '/v1/transfers', {
        transferId: `fund-${index}`,
        debitAccountId: 'clearing',
        creditAccountId: `w${index}`,
        amountMinor: 5000,
        currency: 'EUR',
      });
    }

    const acknowledged: Acknowledged[] = [];
    let next = 0;
    let killed = false;
    const worker = async (): Promise<void> => {
      while (!killed && next < TRANSFER_COUNT_MAX) {
        const index = next++;
        const from = index % WALLET_COUNT;
        const body = {
          transferId: `t${index}`,
          debitAccountId: `w${from}`,
          creditAccountId: `w${(from + 1 + (index % 7)) % WALLET_COUNT}`,
          amountMinor: 1 + (index % 900),
          currency: 'EUR',
          mode: index % 3 === 0 ? 'two_phase' : 'single_phase',
        };
        try {
          const response = await postJson(first.baseUrl, '/v1/transfers', body);
          const transfer = response.body.data['transfer'] as { status: string } | undefined;
          if (transfer !== undefined)
            acknowledged.push({ transferId: body.transferId, status: transfer.status });
        } catch {
          return; // The connection died with the process: this one was never acknowledged.
        }
      }
    };
    const batchesSent: string[][] = [];
    const batchesAcknowledged = new Map<number, BatchItem[]>();
    const batcher = async (): Promise<void> => {
      while (!killed) {
        const batch = batchesSent.length;
        const transfers = Array.from({ length: BATCH_SIZE }, (_, item) => ({
          transferId: `b${batch}-${item}`,
          debitAccountId: item < 2 ? 'clearing' : `w${(batch + item) % WALLET_COUNT}`,
          creditAccountId: `w${(batch + item + 1) % WALLET_COUNT}`,
          amountMinor: 1 + ((batch * BATCH_SIZE + item) % 50),
          currency: 'EUR',
          ...(item === 0 ? { linked: true } : {}),
        }));
        batchesSent.push(transfers.map((transfer) => transfer.transferId));
        const answered = postJson(first.baseUrl, '/v1/transfers/batch', { transfers });
        // The kill comes from here, right after a batch is sent and before it can be answered:
        // at least that batch is cut off, whatever the timing of the others.
        if (acknowledged.length >= KILL_AFTER_ACKNOWLEDGED && !killed) {
          killed = true;
          first.child.kill('SIGKILL');
        }
        try {
          const response = await answered;
          const results = response.body.data['results'] as BatchItem[] | undefined;
          if (response.status === 200 && results !== undefined)
            batchesAcknowledged.set(batch, results);
        } catch {
          return;
        }
      }
    };
    let reportsSent = 0;
    let reportsAcknowledged = 0;
    const reporter = async (): Promise<void> => {
      const records = TRAFFIC_USER_IDS.map((userId) => ({
        userId,
        uploadBytes: 1,
        downloadBytes: 0,
      }));
      while (!killed) {
        reportsSent += 1;
        const body = { reportId: `r${reportsSent}`, records };
        try {
          const response = await postJson(first.baseUrl, '/v1/traffic/reports', body);
          if (response.status === 200) reportsAcknowledged += 1;
        } catch {
          return;
        }
      }
    };
    await Promise.all([
      ...Array.from({ length: CONCURRENCY }, worker),
      ...Array.from({ length: REPORT_CONCURRENCY }, reporter),
      ...Array.from({ length: BATCH_CONCURRENCY }, batcher),
    ]);
    await first.exited;
    expect(killed).toBe(true);

    const second = await startServiceProcess(dataDir, port, SNAPSHOT_ENV);
    try {
      for (const { transferId, status } of acknowledged) {
        const stored = await getJson(second.baseUrl, `/v1/transfers/${transferId}`);
        expect([transferId, (stored.body.data['transfer'] as { status: string }).status]).toEqual([
          transferId,
          status,
        ]);
      }
      // A batch is one atomic append: an acknowledged one is there whole, with the answers it
      // got; one cut off by the kill is there whole or not at all.
      for (const [batch, transferIds] of batchesSent.entries()) {
        const found = await Promise.all(
          transferIds.map(async (transferId) => {
            const stored = await getJson(second.baseUrl, `/v1/transfers/${transferId}`);
            const transfer = stored.body.data?.['transfer'] as { status: string } | undefined;
            return transfer?.status ?? null;
          }),
        );
        const acknowledgedBatch = batchesAcknowledged.get(batch);
        const present = found.filter((status) => status !== null).length;
        if (acknowledgedBatch !== undefined) {
          const answered = acknowledgedBatch.map((item) => item.status ?? 'rejected');
          expect([batch, found]).toEqual([batch, answered]);
        } else {
          expect([batch, present === 0 || present === transferIds.length]).toEqual([batch, true]);
        }
      }
      const store = createSqliteEventStore({ path: join(dataDir, EVENTS_FILE_NAME) });
      const report = await auditBalances(store);
      const accountIds = ['clearing', ...Array.from({ length: WALLET_COUNT }, (_, i) => `w${i}`)];
      for (const accountId of accountIds) {
        const served = await getJson(second.baseUrl, `/v1/accounts/${accountId}`);
        expect([accountId, served.body.data['account']]).toEqual([
          accountId,
          expect.objectContaining(await countersFolded(store, accountId)),
        ]);
      }
      const usage = await uploadsFolded(store);
      for (const userId of TRAFFIC_USER_IDS) {
        const served = await getJson(second.baseUrl, `/v1/traffic/users/${userId}`);
        const uploadBytes = (served.body.data['traffic'] as { uploadBytes: number }).uploadBytes;
        expect([userId, uploadBytes]).toEqual([userId, usage.get(userId)]);
        expect(uploadBytes).toBeGreaterThanOrEqual(reportsAcknowledged);
        expect(uploadBytes).toBeLessThanOrEqual(reportsSent);
      }
      // The read side counts each of them once as well: it resumed after its last committed
      // batch (documents and checkpoint in one transaction) and catches up to the same totals.
      const readSideUploads = async (): Promise<Map<string, number>> => {
        const page = await getJson(second.baseUrl, '/v1/traffic/users?page_size=100');
        const items = (page.body.data['items'] ?? []) as { userId: string; uploadBytes: number }[];
        return new Map(items.map((item) => [item.userId, item.uploadBytes]));
      };
      await eventually(
        async () => {
          const uploads = await readSideUploads();
          return TRAFFIC_USER_IDS.every((userId) => uploads.get(userId) === usage.get(userId))
            ? uploads
            : undefined;
        },
        { timeoutMs: 30_000, what: 'the traffic read model at the usage folded from the log' },
      );
      await store.close();
      expect(reportsAcknowledged).toBeGreaterThan(0);
      const snapshots = snapshotRevisions(dataDir);
      expect(
        [...snapshots.keys()].filter((stream) => stream.startsWith('account-')).length,
      ).toBeGreaterThanOrEqual(accountIds.length);
      expect([...snapshots.keys()].some((stream) => stream.startsWith('trafficshard-'))).toBe(true);
      expect(second.output()).not.toContain('snapshot_');
      expect(report).toMatchObject({ balanced: true, openTransferCount: 0 });
      expect(acknowledged.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKNOWLEDGED);
      expect(batchesAcknowledged.size).toBeGreaterThan(0);
      // The batch requests in flight at the kill were cut off: the all-or-nothing check saw them.
      expect(batchesSent.length).toBeGreaterThan(batchesAcknowledged.size);
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  });
});

/** A stream's state folded from its first event, without any snapshot. */
const foldWholeStream = async <E extends DomainEvent, S>(
  store: EventStore,
  aggregate: StreamFold<E, S>,
  stream: string,
): Promise<S> => {
  const events = await store.readStream(stream, {
    fromRevision: 0,
    direction: 'forwards',
    eventCountMax: 100_000,
  });
  return events.reduce(
    (folded, event) => aggregate.evolve(folded, parseStored(aggregate, event)),
    aggregate.initialState,
  );
};

/** An account's counters folded from its whole stream. */
const countersFolded = async (store: EventStore, accountId: string) => {
  const state = await foldWholeStream(store, accountAggregate, `account-${accountId}`);
  if (state.status === 'unopened') throw new Error(`${accountId}: never opened`);
  const { debitsPostedMinor, creditsPostedMinor, debitsPendingMinor, creditsPendingMinor } = state;
  return { debitsPostedMinor, creditsPostedMinor, debitsPendingMinor, creditsPendingMinor };
};

/** Each user's upload bytes folded from every traffic shard's whole stream. */
const uploadsFolded = async (store: EventStore): Promise<Map<string, number>> => {
  const uploads = new Map<string, number>();
  for (let shard = 0; shard < TRAFFIC_SHARD_COUNT; shard += 1) {
    const stream = `trafficshard-${String(shard).padStart(2, '0')}`;
    const state = await foldWholeStream(store, trafficShardFold, stream);
    for (const [userId, user] of state.users) uploads.set(userId, user.uploadBytes);
  }
  return uploads;
};

/** stream → revision of the snapshots in the service's file. */
const snapshotRevisions = (dataDir: string): Map<string, number> => {
  const db = new Database(join(dataDir, 'service.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT stream, revision FROM snapshots').all() as {
      stream: string;
      revision: number;
    }[];
    return new Map(rows.map((row) => [row.stream, row.revision]));
  } finally {
    db.close();
  }
};
