import { versionedEventCodec, type Aggregate, type EventCodec } from '../aggregate';
import { assert, AssertionError } from '../assert';
import { accept, reject, type Decision } from '../decision';
import { countField, stringField } from '../json-fields';
import type { Currency } from '../money';
import type { JsonObject } from '../ports/event-store.port';

/**
 * A catalogue item sold in a flash sale (stream `item-<itemId>`): its price, its sale window and
 * how long a purchase's hold waits for payment. Its stock is not here: it is the ledger account
 * `stockAccountOf(itemId)`, counted in units of the item (see domain/item/item-sale.ts).
 */
export type ItemTerms = {
  itemId: string;
  name: string;
  priceMinor: number;
  currency: Currency;
  startsAt: string;
  endsAt: string;
  /** A purchase's hold (pending transfer of one unit) voids itself after this long unpaid. */
  holdTimeoutMs: number;
};

/** What an update may change; currency never changes (payments already created name it). */
export type ItemChanges = Partial<
  Pick<ItemTerms, 'name' | 'priceMinor' | 'startsAt' | 'endsAt' | 'holdTimeoutMs'>
>;

type At = { now: string };

export type ItemCommand =
  | { type: 'CreateItem'; data: ItemTerms & At }
  | { type: 'UpdateItem'; data: { changes: ItemChanges } & At }
  | { type: 'RetireItem'; data: { reason: string } & At };

export type ItemEvent =
  | { type: 'ItemCreated'; data: ItemTerms & { createdAt: string } }
  /** The terms after the update, whole: a reader needs no earlier event to know them. */
  | { type: 'ItemUpdated'; data: ItemTerms & { updatedAt: string } }
  | { type: 'ItemRetired'; data: { reason: string; retiredAt: string } };

export type ItemRecord = {
  status: 'listed' | 'retired';
  terms: ItemTerms;
  createdAt: string;
  updatedAt: string;
  retiredAt: string | null;
};
export type ItemState = { status: 'none' } | ItemRecord;

export const itemRejections = [
  'item_not_found',
  'item_already_exists',
  'item_retired',
  'sale_start_not_in_future',
  'sale_end_not_after_start',
  'item_sale_started',
] as const;
export type ItemRejection = (typeof itemRejections)[number];

/** Compared in this order, so item_already_exists names the first differing field. */
const termFields = [
  'name',
  'priceMinor',
  'currency',
  'startsAt',
  'endsAt',
  'holdTimeoutMs',
] as const satisfies readonly (keyof ItemTerms)[];

/** Fields that are fixed once the sale has started: buyers hold units at that price. */
const fixedOnceStarted = ['priceMinor', 'startsAt', 'holdTimeoutMs'] as const;

const instantMs = (instant: string): number => {
  const ms = Date.parse(instant);
  assert(Number.isFinite(ms), `not an instant: ${instant}`); // The API's schema checked it.
  return ms;
};

/** The window's own rules, for a create and for the terms an update leads to. */
const windowProblem = (
  terms: Pick<ItemTerms, 'startsAt' | 'endsAt'>,
  nowMs: number,
  startMustBeFuture: boolean,
): ItemRejection | null => {
  const startsAtMs = instantMs(terms.startsAt);
  if (startMustBeFuture && startsAtMs <= nowMs) return 'sale_start_not_in_future';
  if (instantMs(terms.endsAt) <= startsAtMs) return 'sale_end_not_after_start';
  return null;
};

const decideCreate = (
  data: ItemTerms & At,
  state: ItemState,
): Decision<ItemEvent, ItemRejection> => {
  const { now, ...terms } = data;
  if (state.status !== 'none') {
    // A retried create with the same terms is answered as it is (even once the sale started).
    const differing = termFields.find((field) => state.terms[field] !== terms[field]);
    return differing === undefined ? accept() : reject('item_already_exists', { field: differing });
  }
  const problem = windowProblem(terms, instantMs(now), true);
  if (problem !== null) return reject(problem);
  assert(terms.priceMinor > 0 && terms.holdTimeoutMs > 0, 'CreateItem: validated terms');
  return accept({ type: 'ItemCreated', data: { ...terms, createdAt: now } });
};

const decideUpdate = (
  data: { changes: ItemChanges } & At,
  state: ItemState,
): Decision<ItemEvent, ItemRejection> => {
  if (state.status === 'none') return reject('item_not_found');
  if (state.status === 'retired') return reject('item_retired');
  const nowMs = instantMs(data.now);
  const next: ItemTerms = { ...state.terms, ...data.changes };
  const changed = termFields.filter((field) => state.terms[field] !== next[field]);
  if (changed.length === 0) return accept();
  const started = instantMs(state.terms.startsAt) <= nowMs;
  const fixed = fixedOnceStarted.find((field) => changed.includes(field));
  if (started && fixed !== undefined) return reject('item_sale_started', { field: fixed });
  // A new start must lie ahead; an unchanged one that has passed is the running sale's.
  const problem = windowProblem(next, nowMs, changed.includes('startsAt'));
  if (problem !== null) return reject(problem);
  if (changed.includes('endsAt') && instantMs(next.endsAt) <= nowMs)
    return reject('sale_end_not_after_start', { field: 'endsAt', reason: 'end_in_past' });
  return accept({ type: 'ItemUpdated', data: { ...next, updatedAt: data.now } });
};

const decide = (command: ItemCommand, state: ItemState): Decision<ItemEvent, ItemRejection> => {
  switch (command.type) {
    case 'CreateItem':
      return decideCreate(command.data, state);
    case 'UpdateItem':
      return decideUpdate(command.data, state);
    case 'RetireItem':
      if (state.status === 'none') return reject('item_not_found');
      if (state.status === 'retired') return accept(); // Retiring twice changes nothing.
      return accept({
        type: 'ItemRetired',
        data: { reason: command.data.reason, retiredAt: command.data.now },
      });
  }
};

const evolve = (state: ItemState, event: ItemEvent): ItemState => {
  switch (event.type) {
    case 'ItemCreated': {
      assert(state.status === 'none', 'ItemCreated: item created twice');
      const { createdAt, ...terms } = event.data;
      return { status: 'listed', terms, createdAt, updatedAt: createdAt, retiredAt: null };
    }
    case 'ItemUpdated': {
      assert(state.status === 'listed', 'ItemUpdated: item not listed');
      const { updatedAt, ...terms } = event.data;
      assert(terms.itemId === state.terms.itemId, 'ItemUpdated: another item');
      assert(terms.currency === state.terms.currency, 'ItemUpdated: currency changed');
      return { ...state, terms, updatedAt };
    }
    case 'ItemRetired':
      assert(state.status === 'listed', 'ItemRetired: item not listed');
      return {
        ...state,
        status: 'retired',
        retiredAt: event.data.retiredAt,
        updatedAt: event.data.retiredAt,
      };
  }
};

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
const parseItemEvent = (type: string, data: JsonObject): ItemEvent => {
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

const itemEventCodec: EventCodec<ItemEvent> = versionedEventCodec({
  upcasters: [],
  encode: (event) => event.data,
  parse: parseItemEvent,
});

export const itemAggregate: Aggregate<ItemCommand, ItemEvent, ItemState, ItemRejection> = {
  category: 'item',
  initialState: { status: 'none' },
  decide,
  evolve,
  eventCodec: itemEventCodec,
};

/** Why a purchase at `now` is refused by the item itself (window, retirement), or null. */
export type SaleWindowRejection =
  'item_not_found' | 'item_retired' | 'sale_not_started' | 'sale_ended';

export const saleWindowCheck = (state: ItemState, now: string): SaleWindowRejection | null => {
  if (state.status === 'none') return 'item_not_found';
  if (state.status === 'retired') return 'item_retired';
  const nowMs = instantMs(now);
  if (nowMs < instantMs(state.terms.startsAt)) return 'sale_not_started';
  if (nowMs >= instantMs(state.terms.endsAt)) return 'sale_ended';
  return null;
};
