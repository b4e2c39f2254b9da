import { versionedEventCodec, type EventCodec } from '../aggregate';
import { AssertionError } from '../assert';
import { countField, stringField } from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import type { ItemEvent, ItemTerms } from './item.decider';

const termsOf = (data: JsonObject): ItemTerms => ({
  itemId: stringField(data, 'itemId'),
  name: stringField(data, 'name'),
  priceMinor: countField(data, 'priceMinor'),
  currency: stringField(data, 'currency'),
  startsAt: stringField(data, 'startsAt'),
  endsAt: stringField(data, 'endsAt'),
  holdTimeoutMs: countField(data, 'holdTimeoutMs'),
});

/** The item's events as stored: version 1, every field checked on read. */
const parse = (type: string, data: JsonObject): ItemEvent => {
  switch (type) {
    case 'ItemCreated':
      return { type, data: { ...termsOf(data), createdAt: stringField(data, 'createdAt') } };
    case 'ItemUpdated':
      return { type, data: { ...termsOf(data), updatedAt: stringField(data, 'updatedAt') } };
    case 'ItemRetired':
      return {
        type,
        data: { reason: stringField(data, 'reason'), retiredAt: stringField(data, 'retiredAt') },
      };
    default:
      throw new AssertionError(`item: unknown event type ${type}`);
  }
};

export const itemEventCodec: EventCodec<ItemEvent> = versionedEventCodec({
  upcasters: [],
  encode: (event) => event.data,
  parse,
});
