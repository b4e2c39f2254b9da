import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { loadConfig } from '../../bin/config';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import { startReadSideThread } from '../../bin/read-side-thread';
import type { EventStore } from '../../domain/ports/event-store.port';
import { collectionIn } from '../../projections/read-models';
import { eventuallyTrue } from '../support/eventually';
import { createLedger, openAccount } from '../support/ledger-harness';
import { captureLogs } from '../support/log-capture';

/** The compiled worker: `npm test` builds before jest, as the e2e suites need too. */
const WORKER = join(__dirname, '../../dist/bin/read-side.worker.js');

const capture = () => {
  const { logger, lines } = captureLogs();
  return { logger, messages: () => lines().map((line) => String(line['message'])) };
};

/** A stand-in worker: says it started, counts its starts in a file, then dies after `diesAfterMs`. */
const fakeWorker = (directory: string, diesAfterMs: number | null): string => {
  const script = join(directory, `fake-worker-${diesAfterMs ?? 'never'}.js`);
  writeFileSync(
    script,
    `const { parentPort, workerData } = require('node:worker_threads');
const { appendFileSync } = require('node:fs');
appendFileSync(require('node:path').join(workerData.dataDir, 'starts'), 'x');
${diesAfterMs === 0 ? 'process.exit(7);' : ''}
parentPort.postMessage({ kind: 'started', generation: 1, position: null });
parentPort.on('message', (message) => { if (message.kind === 'stop') process.exit(0); });
${diesAfterMs !== null && diesAfterMs > 0 ? `setTimeout(() => process.exit(3), ${diesAfterMs});` : ''}
`,
  );
  return script;
};

describe('the read side in its worker thread', () => {
  let directory: string;
  let eventStore: EventStore;
  beforeEach(() => {
    directory = mkdtempSync(join(tmpdir(), 'ledger-read-thread-'));
    eventStore = createSqliteEventStore({ path: join(directory, EVENTS_FILE_NAME) });
  });
  afterEach(async () => {
    await eventStore.close();
    rmSync(directory, { recursive: true, force: true });
  });
  const config = () => loadConfig({ DATA_DIR: directory, LOG_LEVEL: 'warn' });
  const starts = (): number => readFileSync(join(directory, 'starts'), 'utf8').length;

  it('folds what the API thread appends, and the routes see it through the mirror', async () => {
    const { logger } = capture();
    const running = await startReadSideThread(config(), eventStore, logger, {
      workerScript: WORKER,
    });
    try {
      const ledger = createLedger(eventStore);
      await openAccount(ledger, 'wallet-t');
      const head = await eventStore.headPosition();
      expect(head).not.toBeNull();
      expect(await running.readSide.waitForPosition(head ?? 0n, 10_000)).toBe(true);
      const account = await running.readSide.store.get(collectionIn('accounts', 1), 'wallet-t');
      expect(account?.['view']).toMatchObject({ accountId: 'wallet-t', balanceMinor: 0 });
    } finally {
      await running.stop();
    }
  });

  it('starts a worker that died again, and logs it', async () => {
    const { logger, messages } = capture();
    const running = await startReadSideThread(config(), eventStore, logger, {
      workerScript: fakeWorker(directory, 200),
      restartPauseMs: 50,
    });
    await eventuallyTrue(() => starts() >= 3, { timeoutMs: 10_000, what: 'the third start' });
    await running.stop();
    expect(starts()).toBeGreaterThanOrEqual(3);
    expect(messages().filter((message) => message === 'read_side_worker_exited').length).toBe(
      starts() - 1,
    );
  });

  it('refuses to start when the worker exits before it has started, and schedules no restart', async () => {
    // Timers are fake so that a restart still pending after the failed start would show.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
    try {
      const { logger } = capture();
      await expect(
        startReadSideThread(config(), eventStore, logger, {
          workerScript: fakeWorker(directory, 0),
          restartPauseMs: 50,
        }),
      ).rejects.toThrow('the read-side worker exited with code 7 before starting');
      // The supervisor schedules a restart when a worker dies; the failed start cancelled it.
      expect(jest.getTimerCount()).toBe(0);
      expect(starts()).toBe(1);
    } finally {
      jest.useRealTimers();
    }
  });
});
