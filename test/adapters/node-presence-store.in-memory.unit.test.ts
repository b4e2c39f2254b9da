import { createInMemoryNodePresenceStore } from '../../adapters/presence/in-memory.node-presence-store';
import {
  nodePresenceStoreContract,
  PRESENCE_TTL_MS,
  testClock,
} from './node-presence-store.contract';

nodePresenceStoreContract('in-memory', () => {
  const clock = testClock();
  const store = createInMemoryNodePresenceStore({ ttlMs: PRESENCE_TTL_MS, nowMs: clock.nowMs });
  return Promise.resolve({
    first: store,
    second: store,
    advanceMs: clock.advanceMs,
    close: () => store.close(),
  });
});
