import type {
  NodeHeartbeatRecord,
  NodePresenceStore,
} from '../../domain/ports/node-presence-store.port';
import { eventually } from '../support/eventually';

export const PRESENCE_TTL_MS = 60_000;
const t0 = Date.parse('2026-03-01T00:00:00.000Z');

/**
 * Two stores on one backend (for the in-memory adapter, one process: the same store twice) and
 * the clock both read, which the suite moves forward.
 */
type PresenceBackend = {
  first: NodePresenceStore;
  second: NodePresenceStore;
  advanceMs: (ms: number) => void;
  close: () => Promise<void>;
};

/** A clock for the stores under test, starting at t0. */
export const testClock = () => {
  let nowMs = t0;
  return { nowMs: () => nowMs, advanceMs: (ms: number) => void (nowMs += ms) };
};

const record = (overrides: Partial<NodeHeartbeatRecord> = {}): NodeHeartbeatRecord => ({
  nodeId: 'tokyo-1',
  heartbeatAtMs: t0,
  onlineUserCount: 42,
  loadPercent: 17.5,
  version: '1.4.0',
  heartbeatCount: 1,
  ...overrides,
});

const WAIT = { timeoutMs: 5000, what: 'the second store sees it' };

export const nodePresenceStoreContract = (
  adapterName: string,
  open: () => Promise<PresenceBackend>,
): void =>
  describe(`NodePresenceStore contract: ${adapterName}`, () => {
    let backend: PresenceBackend;
    beforeEach(async () => {
      backend = await open();
    });
    afterEach(() => backend.close());

    it('knows no heartbeat of a node never heard from', () => {
      expect(backend.first.get('never')).toBeNull();
    });

    it('gives back the latest heartbeat, on this store at once and on another one soon', async () => {
      await backend.first.put(record());
      expect(backend.first.get('tokyo-1')).toEqual(record());
      const later = record({ heartbeatAtMs: t0 + 5, onlineUserCount: 7, heartbeatCount: 2 });
      await backend.second.put(later);
      expect(backend.second.get('tokyo-1')).toEqual(later);
      await eventually(
        () => (backend.first.get('tokyo-1')?.heartbeatCount === 2 ? true : undefined),
        WAIT,
      );
      expect(backend.first.get('tokyo-1')).toEqual(later);
    });

    it('keeps the newer heartbeat when an older one arrives after it', async () => {
      const newer = record({ heartbeatAtMs: t0 + 10, heartbeatCount: 2 });
      await backend.first.put(newer);
      await backend.first.put(record());
      expect(backend.first.get('tokyo-1')).toEqual(newer);
      await backend.first.put(record({ nodeId: 'marker', heartbeatAtMs: t0 + 10 }));
      await eventually(() => backend.second.get('marker') ?? undefined, WAIT);
      expect(backend.second.get('tokyo-1')).toEqual(newer);
    });

    it('keeps nodes apart, forgets a deleted one everywhere', async () => {
      await backend.first.put(record());
      await backend.first.put(record({ nodeId: 'osaka-1', onlineUserCount: 3 }));
      await eventually(() => backend.second.get('osaka-1') ?? undefined, WAIT);
      await backend.second.delete('tokyo-1');
      expect(backend.second.get('tokyo-1')).toBeNull();
      await eventually(() => (backend.first.get('tokyo-1') === null ? true : undefined), WAIT);
      expect(backend.first.get('osaka-1')).toMatchObject({ onlineUserCount: 3 });
    });

    it('drops a heartbeat once it is older than the TTL, not before', async () => {
      await backend.first.put(record());
      backend.advanceMs(PRESENCE_TTL_MS);
      expect(backend.first.get('tokyo-1')).toEqual(record());
      backend.advanceMs(1);
      expect(backend.first.get('tokyo-1')).toBeNull();
    });
  });
