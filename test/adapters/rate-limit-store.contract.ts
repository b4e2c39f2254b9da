import { randomUUID } from 'node:crypto';
import type { StoreFaultListener } from '../../adapters/rate-limits/rate-limiter-counter';
import type { RateLimitStore } from '../../domain/ports/rate-limit-store.port';
import { eventually } from '../support/eventually';

/** What the listener heard, in order: `fault:<counter>` and `recovered:<counter>`. */
export type HeardFaults = string[];

export const listenerInto = (heard: HeardFaults): StoreFaultListener => ({
  onFault: (counter) => void heard.push(`fault:${counter}`),
  onRecovered: (counter) => void heard.push(`recovered:${counter}`),
});

type RateLimitStoreAdapter = {
  /** A store over the adapter's backing; two stores opened by one adapter share that backing. */
  open: (listener: StoreFaultListener) => Promise<RateLimitStore>;
  /** True when two stores opened by `open` count together (a shared store); false for memory. */
  shared: boolean;
};

/**
 * The RateLimitStore port's contract: every adapter runs it unchanged. Counter names are unique
 * per test, so that a shared backing needs no cleaning between tests.
 */
export const rateLimitStoreContract = (adapterName: string, adapter: RateLimitStoreAdapter) =>
  describe(`RateLimitStore contract: ${adapterName}`, () => {
    const opened: RateLimitStore[] = [];
    const heard: HeardFaults = [];
    const open = async (): Promise<RateLimitStore> => {
      const store = await adapter.open(listenerInto(heard));
      opened.push(store);
      return store;
    };
    let name: string;
    beforeEach(() => {
      name = `contract_${randomUUID()}`;
      heard.length = 0;
    });
    afterAll(async () => {
      await Promise.all(opened.map((store) => store.close()));
    });

    it('allows `requests` in a window, counting down, then refuses until the window ends', async () => {
      const counter = (await open()).counter(name, { requests: 3, windowS: 60 });
      const verdicts = [];
      for (let request = 0; request < 4; request += 1) verdicts.push(await counter.consume('k'));
      expect(verdicts.slice(0, 3).map((verdict) => verdict.allowed && verdict.remaining)).toEqual([
        2, 1, 0,
      ]);
      const refused = verdicts[3];
      expect(refused?.allowed).toBe(false);
      if (refused?.allowed !== false) return;
      expect(refused.retryAfterMs).toBeGreaterThan(55_000);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    });

    it('counts each key and each counter name apart', async () => {
      const store = await open();
      const counter = store.counter(name, { requests: 1, windowS: 60 });
      const other = store.counter(`${name}_other`, { requests: 1, windowS: 60 });
      expect((await counter.consume('a')).allowed).toBe(true);
      expect((await counter.consume('a')).allowed).toBe(false);
      expect((await counter.consume('b')).allowed).toBe(true);
      expect((await other.consume('a')).allowed).toBe(true);
    });

    it('starts a new window once the last one has ended', async () => {
      const counter = (await open()).counter(name, { requests: 1, windowS: 1 });
      expect((await counter.consume('k')).allowed).toBe(true);
      expect((await counter.consume('k')).allowed).toBe(false);
      await eventually(async () => ((await counter.consume('k')).allowed ? true : undefined), {
        timeoutMs: 5_000,
        what: 'the key allowed again in the next window',
        intervalMs: 100,
      });
    });

    it('peeks at a key without counting: null before any request, then the count', async () => {
      const counter = (await open()).counter(name, { requests: 5, windowS: 60 });
      await expect(counter.peek('k')).resolves.toBeNull();
      await counter.consume('k');
      await counter.consume('k');
      const seen = await counter.peek('k');
      expect(seen?.consumed).toBe(2);
      expect(seen?.resetMs).toBeGreaterThan(55_000);
      expect((await counter.peek('k'))?.consumed).toBe(2);
    });

    it(
      adapter.shared
        ? 'counts the requests of two instances against one limit'
        : 'counts per instance (memory is not shared)',
      async () => {
        const policy = { requests: 4, windowS: 60 };
        const first = (await open()).counter(name, policy);
        const second = (await open()).counter(name, policy);
        for (let request = 0; request < 3; request += 1)
          expect((await first.consume('k')).allowed).toBe(true);
        const fromSecond = [];
        for (let request = 0; request < 2; request += 1)
          fromSecond.push((await second.consume('k')).allowed);
        expect(fromSecond).toEqual(adapter.shared ? [true, false] : [true, true]);
        expect((await second.peek('k'))?.consumed).toBe(adapter.shared ? 5 : 2);
      },
    );

    it('never rejects when its backing fails: it counts in memory and says so once', async () => {
      const store = await open();
      const counter = store.counter(name, { requests: 2, windowS: 60 });
      expect((await counter.consume('k')).allowed).toBe(true);
      await store.close(); // The backing (file, connection) is gone under the counter.
      const afterFault = [];
      for (let request = 0; request < 3; request += 1)
        afterFault.push((await counter.consume('k')).allowed);
      if (adapter.shared) {
        // The insurance counts from zero: this instance alone, at the same limit.
        expect(afterFault).toEqual([true, true, false]);
        expect(heard).toEqual([`fault:${name}`]);
      } else {
        expect(afterFault).toEqual([true, false, false]);
        expect(heard).toEqual([]);
      }
    });
  });
