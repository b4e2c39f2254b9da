import { createServer } from 'node:net';
import { createEventStoreDbEventStore } from '../../adapters/eventstore/eventstoredb.event-store';
import { type EventStore, UnavailableError } from '../../domain/ports/event-store.port';
import { newEvents, newStream } from './event-store-contract/fixtures';

/** A loopback port nothing listens on: connections are refused at once. */
const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });

describe('eventstoredb event store without a server', () => {
  let store: EventStore;
  beforeEach(async () => {
    store = createEventStoreDbEventStore({
      connectionString: `esdb://127.0.0.1:${await closedPort()}?tls=false`,
    });
  });
  afterEach(() => store.close());

  it('throws UnavailableError from every call that needs the server', async () => {
    const stream = newStream();
    await expect(
      store.append(stream, newEvents(stream, 1), { kind: 'no_stream' }),
    ).rejects.toBeInstanceOf(UnavailableError);
    const read = store.readStream(stream, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 1,
    });
    await expect(read).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.readAll({ afterPosition: null, eventCountMax: 1 })).rejects.toBeInstanceOf(
      UnavailableError,
    );
    await expect(store.headPosition()).rejects.toBeInstanceOf(UnavailableError);
  });

  it('keeps the cause of an UnavailableError', async () => {
    const failure: unknown = await store.headPosition().catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: 'UnavailableError', cause: expect.any(Error) });
  });

  it('fails a subscription with UnavailableError, and close() still settles', async () => {
    const subscription = store.subscribeToAll({ afterPosition: null });
    const iterator = subscription[Symbol.asyncIterator]();
    await expect(iterator.next()).rejects.toBeInstanceOf(UnavailableError);
    await expect(subscription.close()).resolves.toBeUndefined();
  });

  it('ends a pending iteration on close() while still connecting', async () => {
    const subscription = store.subscribeToAll({ afterPosition: 5n });
    const pending = subscription[Symbol.asyncIterator]().next();
    await subscription.close();
    await expect(pending).resolves.toEqual({ done: true, value: undefined });
  });
});
