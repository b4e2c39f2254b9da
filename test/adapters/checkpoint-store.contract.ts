import type { CheckpointStore } from '../../domain/ports/checkpoint-store.port';

export const checkpointStoreContract = (
  adapterName: string,
  open: () => Promise<CheckpointStore>,
): void =>
  describe(`CheckpointStore contract: ${adapterName}`, () => {
    it('loads null for a name never saved', async () => {
      const store = await open();
      await expect(store.load('never-saved')).resolves.toBeNull();
    });
    it('returns the last saved position per name, beyond 2^53', async () => {
      const store = await open();
      await store.save('relay', 5n);
      await store.save('relay', 2n ** 60n + 1n);
      await store.save('projection', 7n);
      await expect(store.load('relay')).resolves.toBe(2n ** 60n + 1n);
      await expect(store.load('projection')).resolves.toBe(7n);
    });
  });
