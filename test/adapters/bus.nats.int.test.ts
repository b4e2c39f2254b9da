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
