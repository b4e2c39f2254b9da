import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEventStoreReplayGuard } from '../../../adapters/channels/event-store.replay-guard';
import { createInMemoryEventStore } from '../../../adapters/eventstore/in-memory.event-store';
import { createSqliteEventStore } from '../../../adapters/eventstore/sqlite.event-store';
import type { EventStore } from '../../../domain/ports/event-store.port';

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const stores: [string, () => EventStore][] = [
  ['in-memory', createInMemoryEventStore],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'replay-guard-'));
      dirs.push(dir);
      return createSqliteEventStore({ path: join(dir, 'events.sqlite') });
    },
  ],
];

describe.each(stores)('replay guard over the %s event store', (_name, open) => {
  it('sees a key once its record is committed, per channel, until purged', async () => {
    const store = open();
    const guard = createEventStoreReplayGuard(store);
    expect(await guard.seen('wechat', 'nonce-1')).toBe(false);
    const appended = await store.appendMulti([], [guard.recordOf('wechat', 'nonce-1', 1000)]);
    expect(appended.ok).toBe(true);
    expect([
      await guard.seen('wechat', 'nonce-1'),
      await guard.seen('alipay', 'nonce-1'),
      await guard.seen('wechat', 'nonce-2'),
    ]).toEqual([true, false, false]);
    expect(await store.purgeIdempotencyRecords(1001)).toBe(1);
    expect(await guard.seen('wechat', 'nonce-1')).toBe(false);
    await store.close();
  });

  it('refuses a second commit of the same key (two deliveries racing)', async () => {
    const store = open();
    const guard = createEventStoreReplayGuard(store);
    await store.appendMulti([], [guard.recordOf('wechat', 'nonce-1', 1000)]);
    const again = await store.appendMulti([], [guard.recordOf('wechat', 'nonce-1', 2000)]);
    expect(again).toMatchObject({ ok: false, reason: 'idempotency_key_exists' });
    await store.close();
  });
});
