import { randomUUID } from 'node:crypto';
import type { IdempotencyStore, StoredResponse } from '../../domain/ports/idempotency-store.port';

const created: StoredResponse = {
  status: 201,
  body: { code: 0, msg: 'ok', data: { transferId: 't-1', amountMinor: 500 } },
  headers: { location: '/v1/transfers/t-1' },
};

/**
 * The IdempotencyStore port's contract: every adapter runs it unchanged. `open` must return an
 * empty store (purgeOlderThan's count covers the whole store).
 */
export const idempotencyStoreContract = (
  adapterName: string,
  open: () => Promise<IdempotencyStore>,
): void =>
  describe(`IdempotencyStore contract: ${adapterName}`, () => {
    let store: IdempotencyStore;
    let scope: string;
    beforeEach(async () => {
      store = await open();
      scope = `client-${randomUUID()} POST /v1/transfers`;
    });

    it('starts a new key', async () => {
      await expect(store.begin(scope, 'k1', 'fp-a', 'boot-1', 1000)).resolves.toBe('started');
    });

    it('answers in_flight to the owner while the key is not completed', async () => {
      await store.begin(scope, 'k1', 'fp-a', 'boot-1', 1000);
      await expect(store.begin(scope, 'k1', 'fp-a', 'boot-1', 1001)).resolves.toEqual({
        state: 'in_flight',
      });
    });

    it('replays the completed response exactly', async () => {
      await store.begin(scope, 'k1', 'fp-a', 'boot-1', 1000);
      await store.complete(scope, 'k1', created);
      await expect(store.begin(scope, 'k1', 'fp-a', 'boot-2', 2000)).resolves.toEqual({
        state: 'completed',
        response: created,
      });
    });

    it('refuses another fingerprint, in flight or completed', async () => {
      await store.begin(scope, 'k1', 'fp-a', 'boot-1', 1000);
      const mismatch = { state: 'fingerprint_mismatch' };
      await expect(store.begin(scope, 'k1', 'fp-b', 'boot-1', 1001)).resolves.toEqual(mismatch);
      await store.complete(scope, 'k1', created);
      await expect(store.begin(scope, 'k1', 'fp-b', 'boot-1', 1002)).resolves.toEqual(mismatch);
    });

    it("takes over another owner's in-flight key, which then belongs to the new owner", async () => {
      await store.begin(scope, 'k1', 'fp-a', 'crashed-boot', 1000);
      await expect(store.begin(scope, 'k1', 'fp-a', 'boot-2', 2000)).resolves.toBe('started');
      await expect(store.begin(scope, 'k1', 'fp-a', 'boot-2', 2001)).resolves.toEqual({
        state: 'in_flight',
      });
    });

    it('keeps scopes apart: one key in two scopes is two keys', async () => {
      await store.begin(scope, 'k1', 'fp-a', 'boot-1', 1000);
      await store.complete(scope, 'k1', created);
      await expect(store.begin(`${scope}-other`, 'k1', 'fp-b', 'boot-1', 1001)).resolves.toBe(
        'started',
      );
    });

    it('forgets a released key, so that it starts again', async () => {
      await store.begin(scope, 'k1', 'fp-a', 'boot-1', 1000);
      await store.release(scope, 'k1', 'boot-1');
      await expect(store.begin(scope, 'k1', 'fp-b', 'boot-1', 1001)).resolves.toBe('started');
    });

    it("does not release another owner's key nor a completed one", async () => {
      await store.begin(scope, 'k1', 'fp-a', 'boot-1', 1000);
      await store.release(scope, 'k1', 'boot-2');
      await expect(store.begin(scope, 'k1', 'fp-a', 'boot-1', 1001)).resolves.toEqual({
        state: 'in_flight',
      });
      await store.complete(scope, 'k1', created);
      await store.release(scope, 'k1', 'boot-1');
      await expect(store.begin(scope, 'k1', 'fp-a', 'boot-1', 1002)).resolves.toMatchObject({
        state: 'completed',
      });
    });

    it('keeps the first outcome when a key is completed twice (after a takeover)', async () => {
      await store.begin(scope, 'k1', 'fp-a', 'slow-boot', 1000);
      await store.begin(scope, 'k1', 'fp-a', 'boot-2', 2000);
      await store.complete(scope, 'k1', created);
      await store.complete(scope, 'k1', { status: 500, body: null, headers: {} });
      await expect(store.begin(scope, 'k1', 'fp-a', 'boot-2', 3000)).resolves.toEqual({
        state: 'completed',
        response: created,
      });
    });

    it('refuses to complete a key that was never begun', async () => {
      await expect(store.complete(scope, 'never-begun', created)).rejects.toThrow(/unknown key/);
    });

    it('purges keys first seen before the cutoff and keeps the others', async () => {
      await store.begin(scope, 'old', 'fp-a', 'boot-1', 1000);
      await store.complete(scope, 'old', created);
      await store.begin(scope, 'young', 'fp-a', 'boot-1', 5000);
      await expect(store.purgeOlderThan(5000)).resolves.toBe(1);
      await expect(store.begin(scope, 'old', 'fp-b', 'boot-1', 6000)).resolves.toBe('started');
      await expect(store.begin(scope, 'young', 'fp-a', 'boot-1', 6000)).resolves.toEqual({
        state: 'in_flight',
      });
    });
  });
