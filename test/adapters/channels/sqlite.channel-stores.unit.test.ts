import {
  createSqlitePaymentTicketStore,
  createSqliteReplayGuard,
} from '../../../adapters/channels/sqlite.channel-stores';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';

describe('SQLite replay guard', () => {
  it('remembers keys per channel, idempotently, until purged', async () => {
    const guard = createSqliteReplayGuard(openSqliteDatabase(':memory:'));
    await guard.remember('wechat', 'nonce-1', 1000);
    await guard.remember('wechat', 'nonce-1', 2000);
    expect([
      await guard.seen('wechat', 'nonce-1'),
      await guard.seen('alipay', 'nonce-1'),
      await guard.seen('wechat', 'nonce-2'),
    ]).toEqual([true, false, false]);
    expect(await guard.purgeOlderThan(1001)).toBe(1);
    expect(await guard.seen('wechat', 'nonce-1')).toBe(false);
  });
});

describe('SQLite payment ticket store', () => {
  it('redeems a ticket once, for its own payment, before it expires', async () => {
    const tickets = createSqlitePaymentTicketStore(openSqliteDatabase(':memory:'));
    await tickets.issue('hash-1', 'p-1', 5000);
    await tickets.issue('hash-2', 'p-1', 5000);
    expect(await tickets.redeem('hash-1', 'p-2', 1000)).toBe('foreign');
    expect(await tickets.redeem('hash-1', 'p-1', 1000)).toBe('redeemed');
    expect(await tickets.redeem('hash-1', 'p-1', 1001)).toBe('used');
    expect(await tickets.redeem('hash-2', 'p-1', 5000)).toBe('expired');
    expect(await tickets.redeem('nope', 'p-1', 1)).toBe('unknown');
    expect(await tickets.purgeExpired(5001)).toBe(2);
  });

  it('shares one schema with the replay guard on the same database', () => {
    const database = openSqliteDatabase(':memory:');
    createSqliteReplayGuard(database);
    expect(() => createSqlitePaymentTicketStore(database)).not.toThrow();
  });
});
