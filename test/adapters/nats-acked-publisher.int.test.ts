import { connect, headers, type NatsConnection } from 'nats';
import { createNatsBus } from '../../adapters/bus/nats.bus';
import { createAckedPublisher } from '../../adapters/bus/nats-acked-publisher';
import { BusUnavailableError } from '../../domain/ports/bus.port';
import { startNatsServer, type NatsServer } from '../support/nats-server';

let server: NatsServer;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(() => server.stop());

const openBus = () =>
  createNatsBus({
    servers: server.url,
    streamName: 'PIPELINED',
    subjects: ['ledger.events.>'],
    retention: 'limits',
    maxAgeMs: 60_000,
    replicas: 1,
    duplicateWindowMs: 60_000,
    deadLetterPrefix: 'ledger.deadletter',
    fetchBatchMax: 16,
    fetchExpiresMs: 1000,
    publishAckTimeoutMs: 5000,
    retryPauseMs: 100,
    onWarning: () => undefined,
  });

const timerCount = (): number =>
  process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('NATS publishes are pipelined on one reply subscription', () => {
  it('sends a burst of 500 publishes with at most one ack timer, not one request timer each', async () => {
    const bus = await openBus();
    try {
      const before = timerCount();
      const publishes = Array.from({ length: 500 }, (_, index) =>
        bus.publish('ledger.events.pipe.A', `pipe-${index}`, { index }),
      );
      const armed = timerCount() - before;
      await Promise.all(publishes);
      expect(armed).toBeLessThanOrEqual(1);
    } finally {
      await bus.close();
    }
  });

  it('fails a publish to a subject no stream holds with the bus-unavailable error', async () => {
    const bus = await openBus();
    try {
      await expect(bus.publish('nowhere.A', 'lost-1', { n: 1 })).rejects.toBeInstanceOf(
        BusUnavailableError,
      );
    } finally {
      await bus.close();
    }
  });
});

describe('the acked publisher on its own', () => {
  let connection: NatsConnection;
  beforeEach(async () => {
    connection = await connect({ servers: server.url });
  });
  afterEach(() => connection.close());

  it('fails a publish that no stream acknowledges within the ack timeout, naming the timeout', async () => {
    // A plain subscriber takes the message and never answers, as a stream that stalled would.
    const silent = connection.subscribe('stalled.A');
    const publisher = createAckedPublisher(connection, {
      ackTimeoutMs: 200,
      clock: Date.now,
      send: (publish) => publish(),
    });
    const sent = headers();
    sent.set('Nats-Msg-Id', 'stalled-1');
    await expect(publisher.publish('stalled.A', new Uint8Array([123, 125]), sent)).rejects.toThrow(
      'no publish acknowledgement within 200 ms',
    );
    publisher.close();
    silent.unsubscribe();
  });

  it('fails the publishes still awaited when it closes', async () => {
    const silent = connection.subscribe('stalled.B');
    const publisher = createAckedPublisher(connection, {
      ackTimeoutMs: 60_000,
      clock: Date.now,
      send: (publish) => publish(),
    });
    const pending = publisher.publish('stalled.B', new Uint8Array([123, 125]), headers());
    publisher.close();
    await expect(pending).rejects.toThrow('the bus closed');
    silent.unsubscribe();
  });
});
