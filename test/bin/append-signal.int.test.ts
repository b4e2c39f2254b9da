import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { createAppendSignal, durableHeadOf, followAppendSignal } from '../../bin/append-signal';
import type { RecordedEvent } from '../../domain/ports/event-store.port';
import { EMPTY_CHAIN, sealEvents } from '../../domain/event-chain';
import { eventually } from '../support/eventually';

/** Longer than the test's wait: only the signal can deliver the event in time. */
const POLL_NEVER_MS = 600_000;

const accountOpened = (stream: string) =>
  sealEvents(stream, EMPTY_CHAIN, [
    {
      id: '0190f1e2-0000-7000-8000-000000000001',
      type: 'AccountOpened',
      data: { accountId: 'a1' },
      metadata: {
        correlationId: 'c',
        causationId: null,
        actor: { clientId: 't', role: 'admin', ip: null },
        idempotencyKey: null,
        occurredAt: new Date().toISOString(),
        schemaVersion: 1,
      },
    },
  ]).events;

describe('append signal: a reading connection learns of another connection’s commits', () => {
  let dir = '';
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'append-signal-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('wakes a subscription on another connection at the commit, not at its poll', async () => {
    const signal = createAppendSignal();
    const path = join(dir, 'events.sqlite');
    const writer = createSqliteEventStore({ path, onDurable: signal.notify });
    const reader = createSqliteEventStore({
      path,
      subscriptionPollMs: POLL_NEVER_MS,
      externalAppends: (listener) => followAppendSignal(signal.cells, listener),
      durableHead: durableHeadOf(signal.cells),
    });
    const seen: RecordedEvent[] = [];
    const subscription = reader.subscribeToAll({ afterPosition: null });
    const reading = (async () => {
      for await (const event of subscription) seen.push(event);
    })();
    try {
      const appended = await writer.append('account-a1', accountOpened('account-a1'), {
        kind: 'no_stream',
      });
      expect(appended.ok).toBe(true);
      const event = await eventually(() => seen[0], {
        timeoutMs: 5000,
        what: 'the event through the signal',
      });
      expect(event.stream).toBe('account-a1');
      expect(Atomics.load(signal.cells, 0)).toBeGreaterThan(0);
    } finally {
      await subscription.close();
      await reading;
      await reader.close();
      await writer.close();
    }
  });

  it('wakes a waiting reader once for a burst of commits, and calls no notify while nobody waits', async () => {
    const notify = jest.spyOn(Atomics, 'notify');
    try {
      const signal = createAppendSignal();
      for (let commit = 0; commit < 1000; commit += 1) signal.notify(BigInt(commit));
      expect(notify).not.toHaveBeenCalled();
      let wakeUps = 0;
      const stop = followAppendSignal(signal.cells, () => (wakeUps += 1));
      // The follower raises its flag before it waits: the first commit after that notifies.
      await eventually(() => (Atomics.load(signal.cells, 1) === 1 ? true : undefined), {
        timeoutMs: 5000,
        what: 'the follower waiting',
      });
      for (let commit = 0; commit < 1000; commit += 1) signal.notify(BigInt(commit));
      await eventually(() => (wakeUps > 0 ? true : undefined), {
        timeoutMs: 5000,
        what: 'the wake-up',
      });
      expect(notify).toHaveBeenCalledTimes(1);
      expect(Atomics.load(signal.cells, 0)).toBe(2000);
      stop();
    } finally {
      notify.mockRestore();
    }
  });
});
