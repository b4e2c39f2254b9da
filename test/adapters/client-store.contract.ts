import { hashApiKey } from '../../domain/ports/client-store.port';
import type { Client, ClientStore } from '../../domain/ports/client-store.port';

const merchant: Client = {
  clientId: 'merchant-1',
  role: 'merchant',
  mode: 'live',
  keyHash: hashApiKey('lsk_merchant-1-key'),
  createdAt: '2025-01-31T12:00:00.000Z',
  revokedAt: null,
};

/** The ClientStore port's contract: every adapter runs it unchanged on an empty store. */
export const clientStoreContract = (adapterName: string, open: () => Promise<ClientStore>): void =>
  describe(`ClientStore contract: ${adapterName}`, () => {
    let store: ClientStore;
    beforeEach(async () => {
      store = await open();
    });

    it('creates a client, found by id and by key hash', async () => {
      await expect(store.create(merchant)).resolves.toEqual({ ok: true });
      await expect(store.findById('merchant-1')).resolves.toEqual(merchant);
      await expect(store.findByKeyHash(merchant.keyHash)).resolves.toEqual(merchant);
    });

    it('finds nothing for an unknown id or key hash', async () => {
      await store.create(merchant);
      await expect(store.findById('merchant-2')).resolves.toBeNull();
      await expect(store.findByKeyHash(hashApiKey('other'))).resolves.toBeNull();
    });

    it('refuses an existing clientId and keeps the first client', async () => {
      await store.create(merchant);
      const again = { ...merchant, role: 'admin' as const, keyHash: hashApiKey('second') };
      await expect(store.create(again)).resolves.toEqual({ ok: false, reason: 'client_exists' });
      await expect(store.findById('merchant-1')).resolves.toEqual(merchant);
      await expect(store.findByKeyHash(again.keyHash)).resolves.toBeNull();
    });

    it('puts a client over an existing one: the old key no longer finds it', async () => {
      await store.create(merchant);
      const rotated = { ...merchant, keyHash: hashApiKey('rotated') };
      await store.put(rotated);
      await expect(store.findByKeyHash(merchant.keyHash)).resolves.toBeNull();
      await expect(store.findByKeyHash(rotated.keyHash)).resolves.toEqual(rotated);
    });

    it('revokes once: a second revoke keeps the first instant', async () => {
      await store.create(merchant);
      const revokedAt = '2025-02-01T00:00:00.000Z';
      const revoked = { ...merchant, revokedAt };
      await expect(store.revoke('merchant-1', revokedAt)).resolves.toEqual(revoked);
      await expect(store.revoke('merchant-1', '2025-03-01T00:00:00.000Z')).resolves.toEqual(
        revoked,
      );
      await expect(store.findByKeyHash(merchant.keyHash)).resolves.toEqual(revoked);
    });

    it('revokes nothing for an unknown client', async () => {
      await expect(store.revoke('nobody', '2025-02-01T00:00:00.000Z')).resolves.toBeNull();
    });
  });
