import { assert } from '../assert';
import type {
  AppendResult,
  EventStore,
  ExpectedRevision,
  IdempotencyRecord,
  NewEvent,
} from '../ports/event-store.port';
import type { DecidedCommand, QueuedCommand } from './batch-decide';

const keyOf = (record: { scope: string; key: string }): string => `${record.scope}\n${record.key}`;

/**
 * The records of the batch's commands that produced events, each (scope, key) once: two
 * deliveries of one callback decided together carry the same replay key.
 */
export const recordsOf = (
  batch: readonly QueuedCommand<unknown>[],
  decided: readonly DecidedCommand<unknown, string>[],
): IdempotencyRecord[] => {
  const byKey = new Map<string, IdempotencyRecord>();
  batch.forEach(({ context }, index) => {
    const outcome = decided[index];
    if (outcome?.ok !== true || outcome.eventCount === 0) return;
    for (const record of context.records ?? []) byKey.set(keyOf(record), record);
  });
  return [...byKey.values()];
};

/**
 * Appends one stream's events and the records in ONE atomic, durable commit. A record whose key
 * another append stored first is durable already: it is left out and the append tried again
 * (each try leaves out at least one record, so the loop ends).
 */
export const appendWithRecords = async (
  store: EventStore,
  stream: string,
  events: readonly NewEvent[],
  expected: ExpectedRevision,
  records: readonly IdempotencyRecord[],
): Promise<AppendResult> => {
  let pending = records;
  while (pending.length > 0) {
    const result = await store.appendMulti([{ stream, events, expected }], pending);
    if (result.ok) {
      const only = result.streams[0];
      assert(only !== undefined, `${stream}: one stream appended, one result`);
      return { ok: true, lastRevision: only.lastRevision, lastPosition: only.lastPosition };
    }
    if (result.reason === 'revision_conflict') {
      const revisionActual = result.conflicts[0]?.revisionActual ?? null;
      return { ok: false, reason: 'revision_conflict', revisionActual };
    }
    const stored = new Set(result.existing.map(keyOf));
    const rest = pending.filter((record) => !stored.has(keyOf(record)));
    assert(rest.length < pending.length, `${stream}: idempotency_key_exists named no record given`);
    pending = rest;
  }
  return store.append(stream, events, expected);
};
