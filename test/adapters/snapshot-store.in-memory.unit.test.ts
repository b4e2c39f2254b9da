import { createInMemorySnapshotStore } from '../../adapters/snapshots/in-memory.snapshot-store';
import { snapshotStoreContract } from './snapshot-store.contract';

snapshotStoreContract('in-memory', () => Promise.resolve(createInMemorySnapshotStore()));
