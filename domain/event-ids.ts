import { v5 as uuidv5 } from 'uuid';

/** Fixed forever: changing it would change every seeded event id and break idempotent retries. */
const LEDGER_EVENT_NAMESPACE = '6f1d2c8e-5b0a-4f7e-9a43-2f6c1b7d9e10';

/**
 * The id of the index-th event decided by a command run with this seed. A retried step re-derives
 * the same ids, so the store's idempotent re-append and the transfer recovery can recognise it.
 */
export const deterministicEventId = (seed: string, index: number): string =>
  uuidv5(`${seed}:${index}`, LEDGER_EVENT_NAMESPACE);
