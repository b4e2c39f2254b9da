import { createSqlitePaymentTicketStore } from '../../../adapters/channels/sqlite.channel-stores';
import { openSqliteDatabase } from '../../../adapters/sqlite/open-database';

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

  it('commits the tickets issued in one turn together, and resolves them only once committed', async () => {
    const database = openSqliteDatabase(':memory:');
    const tickets = createSqlitePaymentTicketStore(database);
    const exec = jest.spyOn(database, 'exec');
    const issued = Promise.all(
      Array.from({ length: 10 }, (_, index) => tickets.issue(`hash-${index}`, 'p-1', 5000)),
    );
    expect(database.inTransaction).toBe(true);
    await issued;
    expect(database.inTransaction).toBe(false);
    expect(exec.mock.calls.filter(([sql]) => sql === 'COMMIT')).toHaveLength(1);
    expect(
      await Promise.all([
        tickets.redeem('hash-9', 'p-1', 1000),
        tickets.redeem('hash-9', 'p-1', 1000),
      ]),
    ).toEqual(['redeemed', 'used']);
  });

  it("drops the replay-key table of older versions (keys now commit with the payment's events)", () => {
    const database = openSqliteDatabase(':memory:');
    database.exec('CREATE TABLE channel_callback_replay_keys (channel TEXT, replay_key TEXT)');
    createSqlitePaymentTicketStore(database);
    const tables = database
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'channel_%'")
      .all();
    expect(tables).toEqual([]);
  });
});
