import { createInMemoryEventStore } from '../../adapters/eventstore/in-memory.event-store';
import { eventStoreContract } from './event-store.contract';

eventStoreContract('in-memory', () => Promise.resolve(createInMemoryEventStore()));
