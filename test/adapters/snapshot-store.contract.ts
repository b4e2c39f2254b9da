import type { SavedSnapshot, SnapshotStore } from '../../domain/ports/snapshot-store.port';

const snapshot = (overrides: Partial<SavedSnapshot> = {}): SavedSnapshot => ({
  stream: 'account-a',
  revision: 41,
  position: 2n ** 60n + 7n,
  lastHash: 'a'.repeat(64),
  schemaVersion: 1,
  state: { status: 'open', counters: [1, 2, 3], nested: { metadata: { k: 'v' }, none: null } },
  ...overrides,
});

export const snapshotStoreContract = (adapterName: string, open: () => Promise<SnapshotStore>) =>
  describe(`SnapshotStore contract: ${adapterName}`, () => {
    it('loads null for a stream never saved', async () => {
      await expect((await open()).load('account-none')).resolves.toBeNull();
    });

    it('gives back what was saved, positions beyond 2^53 included', async () => {
      const store = await open();
      await store.save(snapshot());
      await expect(store.load('account-a')).resolves.toEqual(snapshot());
    });

    it('keeps one snapshot per stream: a save replaces the last one', async () => {
      const store = await open();
      await store.save(snapshot());
      await store.save(snapshot({ stream: 'account-b', revision: 3 }));
      const later = snapshot({ revision: 99, position: 5n, lastHash: 'b'.repeat(64), state: 7 });
      await store.save(later);
      await expect(store.load('account-a')).resolves.toEqual(later);
      await expect(store.load('account-b')).resolves.toMatchObject({ revision: 3 });
    });

    it('lists the streams that have one, in order, page by page', async () => {
      const store = await open();
      for (const stream of ['traffic-u2', 'account-b', 'traffic-u1', 'account-a']) {
        await store.save(snapshot({ stream }));
      }
      await store.save(snapshot({ stream: 'account-b', revision: 50 }));
      await expect(store.listStreams(null, 3)).resolves.toEqual([
        'account-a',
        'account-b',
        'traffic-u1',
      ]);
      await expect(store.listStreams('traffic-u1', 3)).resolves.toEqual(['traffic-u2']);
      await expect(store.listStreams('traffic-u2', 3)).resolves.toEqual([]);
    });

    it('keeps a copy: changing the saved object afterwards changes nothing stored', async () => {
      const store = await open();
      const state = { total: 1 };
      await store.save(snapshot({ state }));
      state.total = 2;
      const loaded = await store.load('account-a');
      expect(loaded?.state).toEqual({ total: 1 });
    });
  });
