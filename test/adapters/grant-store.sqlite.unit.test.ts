import { createSqliteGrantStore } from '../../adapters/clients/sqlite.grant-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import type { Grant } from '../../domain/auth/grants';

const grantOf = (grantId: string, grantedAt: string): Grant => ({
  grantId,
  clientId: 'client-a',
  scopes: ['transfers:write'],
  resources: [],
  grantedBy: 'admin',
  grantedAt,
  expiresAt: '2027-01-01T00:00:00.000Z',
  revokedAt: null,
});

const revokedAtOf = (grants: readonly Grant[]) =>
  grants.map((grant) => [grant.grantId, grant.revokedAt]);

/**
 * The SQLite grant store keeps each client's grants in memory between requests: the tests change
 * the table behind its back to tell a kept answer from a read one.
 */
describe('the SQLite grant store', () => {
  const open = () => {
    const database = openSqliteDatabase(':memory:');
    return { database, store: createSqliteGrantStore(database) };
  };

  it("keeps a client's grants between requests and drops them on its own revoke: a revoked grant shows revoked at once", async () => {
    const { database, store } = open();
    await store.add(grantOf('g-1', '2026-12-07T01:00:00.000Z'));
    expect(revokedAtOf(await store.listByClient('client-a', 100))).toEqual([['g-1', null]]);
    // Behind the store's back: the kept answer does not move (no read per request)...
    database
      .prepare("UPDATE client_grants SET resources = '[\"account-x\"]' WHERE grant_id = 'g-1'")
      .run();
    expect((await store.listByClient('client-a', 100))[0]?.resources).toEqual([]);
    // ...and the store's own revoke drops it: the next request sees the revocation.
    await store.revoke('client-a', 'g-1', '2026-12-07T02:00:00.000Z');
    const after = await store.listByClient('client-a', 100);
    expect(revokedAtOf(after)).toEqual([['g-1', '2026-12-07T02:00:00.000Z']]);
    expect(after[0]?.resources).toEqual(['account-x']);
  });

  it('drops what it kept for a client when a grant is added, for every countMax asked', async () => {
    const { store } = open();
    await store.add(grantOf('g-1', '2026-12-07T01:00:00.000Z'));
    expect(revokedAtOf(await store.listByClient('client-a', 100))).toEqual([['g-1', null]]);
    expect(revokedAtOf(await store.listByClient('client-a', 1))).toEqual([['g-1', null]]);
    await store.add(grantOf('g-2', '2026-12-07T03:00:00.000Z'));
    expect(revokedAtOf(await store.listByClient('client-a', 100))).toEqual([
      ['g-2', null],
      ['g-1', null],
    ]);
    expect(revokedAtOf(await store.listByClient('client-a', 1))).toEqual([['g-2', null]]);
    expect(await store.listByClient('client-b', 100)).toEqual([]);
  });

  it('keeps no answer read inside a transaction still open on the connection (its rollback may take it back)', async () => {
    const { database, store } = open();
    await store.add(grantOf('g-1', '2026-12-07T01:00:00.000Z'));
    database.exec('BEGIN');
    await store.add(grantOf('g-2', '2026-12-07T03:00:00.000Z'));
    expect(await store.listByClient('client-a', 100)).toHaveLength(2);
    database.exec('ROLLBACK');
    expect(revokedAtOf(await store.listByClient('client-a', 100))).toEqual([['g-1', null]]);
  });

  it("hands out a copy: a caller's change to the list does not reach the next answer", async () => {
    const { store } = open();
    await store.add(grantOf('g-1', '2026-12-07T01:00:00.000Z'));
    (await store.listByClient('client-a', 100)).pop();
    expect(await store.listByClient('client-a', 100)).toHaveLength(1);
  });
});
