import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { EMPTY_CHAIN, sealEvents } from '../../domain/event-chain';
import type { EventStore } from '../../domain/ports/event-store.port';
import { createAppendedEventCount, startAuditCheckpoints } from '../../bin/audit-checkpoints';
import { instrumentEventStore } from '../../bin/metrics';
import { eventually } from '../support/eventually';
import { captureLogs } from '../support/log-capture';

/**
 * The service's checkpointer in-process, on a real SQLite log: every N events or T, whichever
 * comes first. T is an hour on a timer the test fires by hand (the injected clock), N is 5.
 */
const EVERY_EVENT_COUNT = 5;
const INTERVAL_MS = 3_600_000;

type FakeTimer = { callback: () => void; delayMs: number; state: 'armed' | 'cancelled' | 'fired' };

/** The timers the checkpointer arms; `fire` runs the one armed (there is never more than one). */
const fakeTimers = () => {
  const timers: FakeTimer[] = [];
  const armed = (): FakeTimer[] => timers.filter((timer) => timer.state === 'armed');
  return {
    setTimer: (callback: () => void, delayMs: number) => {
      const timer: FakeTimer = { callback, delayMs, state: 'armed' };
      timers.push(timer);
      return () => {
        if (timer.state === 'armed') timer.state = 'cancelled';
      };
    },
    armed,
    fire: (): void => {
      const [timer, ...others] = armed();
      expect(others).toEqual([]);
      if (timer === undefined) throw new Error('no timer armed');
      timer.state = 'fired';
      timer.callback();
    },
  };
};

type Signed = { trigger: string; sequence: number; headPosition: string };

describe('signed checkpoints every N events or T, whichever comes first', () => {
  jest.setTimeout(60_000);
  let dataDir: string;
  let sqlite: EventStore;
  let store: EventStore;
  let timers: ReturnType<typeof fakeTimers>;
  let logs: ReturnType<typeof captureLogs>;
  let checkpoints: ReturnType<typeof startAuditCheckpoints> | null;

  /** Starts the checkpointer on `checkpointStore` (the counted store unless a test wraps it). */
  const start = (checkpointStore: EventStore = store): void => {
    checkpoints = startAuditCheckpoints({
      config: {
        dataDir,
        auditSigningKeyFile: null,
        auditCheckpointIntervalMs: INTERVAL_MS,
        auditCheckpointEveryEvents: EVERY_EVENT_COUNT,
      },
      eventStore: checkpointStore,
      appendedEvents,
      logger: logs.logger,
      setTimer: timers.setTimer,
    });
  };
  let appendedEvents: ReturnType<typeof createAppendedEventCount>;

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-checkpoint-triggers-'));
    sqlite = createSqliteEventStore({ path: join(dataDir, 'events.sqlite') });
    appendedEvents = createAppendedEventCount();
    store = instrumentEventStore(sqlite, appendedEvents.counted);
    timers = fakeTimers();
    logs = captureLogs('info');
    checkpoints = null;
  });
  afterEach(async () => {
    await checkpoints?.stop();
    await sqlite.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Appends `count` events, one per fresh stream and append; the last one's position. */
  const appendEvents = async (count: number): Promise<string> => {
    let lastPosition = '';
    for (let index = 0; index < count; index += 1) {
      const stream = `note-${randomUUID()}`;
      const { events } = sealEvents(stream, EMPTY_CHAIN, [
        {
          id: randomUUID(),
          type: 'NoteWritten',
          data: { index },
          metadata: {
            correlationId: stream,
            causationId: null,
            actor: { clientId: 'test', role: 'admin', ip: null },
            idempotencyKey: null,
            occurredAt: new Date().toISOString(),
            schemaVersion: 1,
          },
        },
      ]);
      const appended = await store.append(stream, events, { kind: 'no_stream' });
      if (!appended.ok) throw new Error('append refused');
      lastPosition = String(appended.lastPosition);
    }
    return lastPosition;
  };
  const signed = (): Signed[] =>
    logs
      .lines()
      .filter((line) => line['message'] === 'audit_checkpoint_signed')
      .map((line) => ({
        trigger: String(line['trigger']),
        sequence: Number(line['sequence']),
        headPosition: String(line['headPosition']),
      }));
  const signedCount = (count: number, what: string): Promise<Signed[]> =>
    eventually(
      () => {
        const found = signed();
        return found.length >= count ? found : undefined;
      },
      { timeoutMs: 20_000, what },
    );
  const failures = () =>
    logs.lines().filter((line) => line['message'] === 'audit_checkpoint_failed');

  it('signs one once N events were appended, with T an hour away; its head covers them', async () => {
    start();
    expect(timers.armed().map((timer) => timer.delayMs)).toEqual([INTERVAL_MS]);
    const position = await appendEvents(EVERY_EVENT_COUNT);
    const [checkpoint] = await signedCount(1, 'a checkpoint by count');
    expect(checkpoint).toEqual({ trigger: 'events', sequence: 1, headPosition: position });
    // T runs again from this checkpoint: the timer armed at start was cancelled, one is armed.
    await eventually(() => (timers.armed().length === 1 ? true : undefined), {
      timeoutMs: 5_000,
      what: 'the timer armed again after the checkpoint',
    });
    expect(timers.armed().map((timer) => timer.delayMs)).toEqual([INTERVAL_MS]);
    expect(failures()).toEqual([]);
  });

  it('takes none for fewer than N: the next is the timer’s, which restarts the count', async () => {
    start();
    const fourth = await appendEvents(EVERY_EVENT_COUNT - 1);
    timers.fire(); // T elapsed: had the count taken one, it would be sequence 1, not the timer's.
    expect(await signedCount(1, 'the timer’s checkpoint')).toEqual([
      { trigger: 'interval', sequence: 1, headPosition: fourth },
    ]);
    // The timer's checkpoint restarted the count: 4 + 1 events are not 5 since the last one.
    await eventually(() => (timers.armed().length === 1 ? true : undefined), {
      timeoutMs: 5_000,
      what: 'the timer armed again',
    });
    const fifth = await appendEvents(1);
    timers.fire();
    expect(await signedCount(2, 'the timer’s second checkpoint')).toEqual([
      { trigger: 'interval', sequence: 1, headPosition: fourth },
      { trigger: 'interval', sequence: 2, headPosition: fifth },
    ]);
    // Counted from the last checkpoint on, N more events sign one by count.
    await eventually(() => (timers.armed().length === 1 ? true : undefined), {
      timeoutMs: 5_000,
      what: 'the timer armed again',
    });
    const tenth = await appendEvents(EVERY_EVENT_COUNT);
    expect((await signedCount(3, 'a checkpoint by count'))[2]).toEqual({
      trigger: 'events',
      sequence: 3,
      headPosition: tenth,
    });
    expect(failures()).toEqual([]);
  });

  it('does not pile up: events during a checkpoint count toward one next, which covers them all', async () => {
    // The first checkpoint is held after it read the head, while 3 N more events are appended.
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reachedHead: () => void = () => undefined;
    const reached = new Promise<void>((resolve) => {
      reachedHead = resolve;
    });
    let holding = true;
    start({
      ...store,
      headPosition: async () => {
        const head = await store.headPosition();
        if (holding) {
          holding = false;
          reachedHead();
          await held;
        }
        return head;
      },
    });
    const fifth = await appendEvents(EVERY_EVENT_COUNT);
    await reached;
    const twentieth = await appendEvents(3 * EVERY_EVENT_COUNT);
    release();
    const found = await signedCount(2, 'the checkpoint after the held one');
    expect(found).toEqual([
      { trigger: 'events', sequence: 1, headPosition: fifth },
      { trigger: 'events', sequence: 2, headPosition: expect.any(String) },
    ]);
    // The second covers the whole burst (and the first one's copy, appended after it).
    expect(BigInt(found[1]?.headPosition ?? '0')).toBeGreaterThanOrEqual(BigInt(twentieth));
    // At stop nothing moved since: no third checkpoint (4 N events, 2 checkpoints).
    await checkpoints?.stop();
    checkpoints = null;
    expect(signed()).toHaveLength(2);
    expect(failures()).toEqual([]);
  });

  it('signs a last one at stop, covering what neither trigger took yet', async () => {
    start();
    const third = await appendEvents(3);
    await checkpoints?.stop();
    checkpoints = null;
    expect(signed()).toEqual([{ trigger: 'stop', sequence: 1, headPosition: third }]);
    expect(timers.armed()).toEqual([]);
  });
});
