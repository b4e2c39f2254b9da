import { AckPolicy, connect } from 'nats';
import { createNatsBus } from '../../adapters/bus/nats.bus';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { busContract } from './bus.contract';

let server: NatsServer;

beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(() => server.stop());

busContract('NATS JetStream (real nats-server)', () => {
  return createNatsBus({
    servers: server.url,
    streamName: 'CONTRACT',
    subjects: ['ledger.events.>', 'ledger.audit.>'],
    retention: 'limits',
    maxAgeMs: 60_000,
    replicas: 1,
    duplicateWindowMs: 60_000,
    deadLetterPrefix: `ledger.deadletter`,
    fetchBatchMax: 16,
    fetchExpiresMs: 1000,
    publishAckTimeoutMs: 5000,
    retryPauseMs: 100,
    onWarning: () => undefined,
  });
});

describe('retired consumers', () => {
  const options = (streamName: string, retiredConsumers: readonly string[]) => ({
    servers: server.url,
    streamName,
    subjects: [`${streamName.toLowerCase()}.events.>`],
    retention: 'interest' as const,
    maxAgeMs: 60_000,
    replicas: 1,
    duplicateWindowMs: 60_000,
    deadLetterPrefix: `${streamName.toLowerCase()}.deadletter`,
    fetchBatchMax: 16,
    fetchExpiresMs: 1000,
    publishAckTimeoutMs: 5000,
    retryPauseMs: 100,
    retiredConsumers,
    onWarning: () => undefined,
  });

  it('removes the durable consumers an older build left behind, and only those', async () => {
    const connection = await connect({ servers: server.url });
    const jsm = await connection.jetstreamManager();
    const older = await createNatsBus(options('RETIRED', []));
    for (const durable of ['saga_payment_expiry_0', 'saga_payment_expiry_1', 'saga_top_up_0'])
      await jsm.consumers.add('RETIRED', {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        filter_subject: 'retired.events.>',
      });
    await older.close();
    const names = async (): Promise<string[]> => {
      const found: string[] = [];
      for await (const info of jsm.consumers.list('RETIRED')) found.push(info.name);
      return found.sort();
    };
    expect(await names()).toEqual([
      'saga_payment_expiry_0',
      'saga_payment_expiry_1',
      'saga_top_up_0',
    ]);
    const bus = await createNatsBus(options('RETIRED', ['saga_payment_expiry']));
    expect(await names()).toEqual(['saga_top_up_0']);
    await bus.close();
    await connection.close();
  });
});
