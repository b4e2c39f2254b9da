import { createEventStoreDbEventStore } from '../../adapters/eventstore/eventstoredb.event-store';
import { eventStoreContract } from './event-store.contract';

const connectionString = process.env['EVENTSTORE_URL'];
const SKIPPED = 'KurrentDB contract suite SKIPPED: EVENTSTORE_URL not set';

if (connectionString === undefined || connectionString === '') {
  process.stdout.write(`${SKIPPED}\n`);
  it.skip(SKIPPED, () => undefined);
} else {
  // One server for all tests: streams are fresh per test; $all holds other writers' events too.
  eventStoreContract(
    'kurrentdb',
    () => Promise.resolve(createEventStoreDbEventStore({ connectionString })),
    {
      sharedLog: true,
    },
  );
}
