import {
  type KurrentDBClient,
  UnknownError,
  UnavailableError as ClientUnavailableError,
  UnsupportedError,
} from '@kurrent/kurrentdb-client';
import { createEventStoreDbEventStore } from '../../adapters/eventstore/eventstoredb.event-store';
import { type EventStore, UnavailableError } from '../../domain/ports/event-store.port';
import { checkMultiStreamAppend } from '../../adapters/eventstore/eventstoredb/esdb-multi-append';
import { newEvents, newStream } from './event-store-contract/fixtures';
import { freePort } from '../support/service-process';

/** A loopback port nothing listens on: connections are refused at once. */
const closedPort = freePort;

describe('eventstoredb event store without a server', () => {
  let store: EventStore;
  beforeEach(async () => {
    store = createEventStoreDbEventStore({
      connectionString: `kurrentdb://127.0.0.1:${await closedPort()}?tls=false`,
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
    const multi = store.appendMulti(
      [{ stream, events: newEvents(stream, 1), expected: { kind: 'no_stream' } }],
      [],
    );
    await expect(multi).rejects.toBeInstanceOf(UnavailableError);
    await expect(store.readIdempotencyRecord('scope', 'key')).rejects.toBeInstanceOf(
      UnavailableError,
    );
    await expect(store.purgeIdempotencyRecords(0)).rejects.toBeInstanceOf(UnavailableError);
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

describe('the multi-stream append check', () => {
  /** Only the one call the check makes; the cast is this stub's boundary. */
  const answering = (error: Error | null) =>
    ({
      multiStreamAppend: () => (error === null ? Promise.resolve() : Promise.reject(error)),
    }) as unknown as KurrentDBClient;

  it('names the version needed when the client finds no multi-stream append on the server', async () => {
    const check = checkMultiStreamAppend(
      answering(new UnsupportedError('multiStreamAppend', '25.1')),
    );
    await expect(check).rejects.toThrow('KurrentDB 25.1 or later is required');
    await expect(check).rejects.not.toBeInstanceOf(UnavailableError);
  });

  it('passes when the server answers the empty append itself', async () => {
    await expect(checkMultiStreamAppend(answering(new UnknownError()))).resolves.toBeUndefined();
    await expect(checkMultiStreamAppend(answering(null))).resolves.toBeUndefined();
  });

  it('reports an outage as UnavailableError, to be checked again', async () => {
    const check = checkMultiStreamAppend(answering(new ClientUnavailableError()));
    await expect(check).rejects.toBeInstanceOf(UnavailableError);
  });
});
