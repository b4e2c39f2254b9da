import { connect } from 'nats';
import { createNatsNodePresenceStore } from '../../adapters/presence/nats.node-presence-store';
import { eventually } from '../support/eventually';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import {
  nodePresenceStoreContract,
  PRESENCE_TTL_MS,
  testClock,
} from './node-presence-store.contract';

let server: NatsServer;
let bucketCount = 0;

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(() => server.stop());

const openStore = (bucket: string, nowMs: () => number) =>
  createNatsNodePresenceStore({
    servers: server.url,
    bucket,
    ttlMs: PRESENCE_TTL_MS,
    retryPauseMs: 100,
    nowMs,
    onWarning: () => undefined,
  });

/** Two stores, each with its own connection, on one bucket of a real nats-server. */
nodePresenceStoreContract('NATS JetStream key-value (real nats-server)', async () => {
  const clock = testClock();
  const bucket = `presence_${(bucketCount += 1)}`;
  const first = await openStore(bucket, clock.nowMs);
  const second = await openStore(bucket, clock.nowMs);
  return {
    first,
    second,
    advanceMs: clock.advanceMs,
    close: async () => {
      await first.close();
      await second.close();
    },
  };
});

describe('NATS presence bucket', () => {
  it('is created with the TTL, one value per key, in memory; a late store reads what is there', async () => {
    const clock = testClock();
    const first = await openStore('presence_settings', clock.nowMs);
    await first.put({
      nodeId: 'n-1',
      heartbeatAtMs: clock.nowMs(),
      onlineUserCount: 1,
      loadPercent: 0,
      version: '',
      heartbeatCount: 1,
    });
    const late = await openStore('presence_settings', clock.nowMs);
    const connection = await connect({ servers: server.url });
    try {
      const status = await (await connection.jetstream().views.kv('presence_settings')).status();
      expect([status.ttl, status.history, status.storage]).toEqual([PRESENCE_TTL_MS, 1, 'memory']);
      const seen = async () => (late.get('n-1') === null ? undefined : late.get('n-1'));
      await expect(eventually(seen, { timeoutMs: 5000, what: 'n-1' })).resolves.toMatchObject({
        heartbeatCount: 1,
      });
    } finally {
      await connection.close();
      await first.close();
      await late.close();
    }
  });
});
