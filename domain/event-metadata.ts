import {
  countField,
  jsonObject,
  nullableStringField,
  optionalField,
  stringField,
} from './json-fields';
import type { EventMetadata, JsonObject } from './ports/event-store.port';

/**
 * An event's envelope metadata read back from JSON that left the store (an audit bundle), every
 * field checked: throws an AssertionError naming the first field that is missing or malformed.
 */
export const parseEventMetadata = (metadata: JsonObject): EventMetadata => {
  const actor = jsonObject(metadata['actor'], 'actor');
  return {
    correlationId: stringField(metadata, 'correlationId'),
    causationId: nullableStringField(metadata, 'causationId'),
    actor: {
      clientId: stringField(actor, 'clientId'),
      role: stringField(actor, 'role'),
      ip: nullableStringField(actor, 'ip'),
    },
    idempotencyKey: nullableStringField(metadata, 'idempotencyKey'),
    occurredAt: stringField(metadata, 'occurredAt'),
    schemaVersion: countField(metadata, 'schemaVersion'),
    ...optionalField(metadata, 'traceparent', stringField),
    // Absent on events sealed before hash version 2 (domain/event-chain.ts): kept as found.
    ...optionalField(metadata, 'hashVersion', countField),
    hash: stringField(metadata, 'hash'),
  };
};
