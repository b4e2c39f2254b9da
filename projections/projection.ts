import { parseStored, type DomainEvent, type StreamFold } from '../domain/aggregate';
import type { JsonObject, JsonValue, RecordedEvent } from '../domain/ports/event-store.port';
import type { CollectionSpec } from '../domain/ports/read-model-store.port';

/**
 * A projection folds events of the global log into documents. Every document it writes has the
 * shape { view, positionKey, ...index fields }: `view` is what the API returns, positionKey is the
 * position of the last event folded in (zero-padded, so text order is log order), and the index
 * fields are the ones its collections declare. Handlers skip events at or below a document's
 * positionKey, so applying the same event twice leaves the same document.
 */
export type ProjectionContext = {
  /** The document as of the events applied so far, including this batch's uncommitted writes. */
  get(collection: string, id: string): Promise<JsonObject | null>;
  /** get() of many ids at once: the documents that exist, by id, with one store read for all. */
  getMany(collection: string, ids: readonly string[]): Promise<Map<string, JsonObject>>;
  /**
   * Writes the document when the unit commits. `indexedFieldsKept`: the projection knows the
   * stored document's indexed fields hold this one's values (or none is stored), so the store may
   * leave its indexes alone.
   */
  put(
    collection: string,
    id: string,
    document: JsonObject,
    options?: { indexedFieldsKept: boolean },
  ): void;
  /** A change live watchers (SSE) may be waiting for; delivered only after the commit. */
  announce(change: WatchedChange): void;
};

/** What an SSE watcher of a payment, transfer or account receives. */
export type WatchedChange = { stream: string; position: bigint; kind: string; view: JsonObject };

/**
 * A projection folds one event at a time (`apply`, in log order, interleaved with the other
 * projections of the list), or whole batches (`openUnit`, each batch's events in log order): a
 * read model whose documents change many times per batch folds them in memory and puts each
 * once per unit. A batch projection reads only its own collections.
 */
export type Projection = {
  readonly name: string;
  /** Logical collection names and their indexes; the runner maps them to a generation. */
  readonly collections: readonly CollectionSpec[];
  /**
   * True when this projection's documents may stay uncommitted for up to the runner's
   * `unitMsMax` (traffic users, the audit trail's heads): a unit of batches that wrote only
   * such documents and announced nothing is committed once, at the end of the interval, with the
   * checkpoint of its last event. Other writes are committed with the batch that made them.
   */
  readonly commitDeferrable?: boolean;
  /**
   * True when the projection keeps what it needs of its documents in its own memory (a batch
   * projection carrying its units' memory over) and puts each at most once per unit, when the
   * unit flushes: the runner then keeps no copy of them (no cache between units, no read of the
   * unit's own puts), which under traffic reports was a third of a flush's cost. Reads of its
   * collections go to the store.
   */
  readonly keepsOwnDocuments?: boolean;
} & (
  | { readonly apply: (event: RecordedEvent, context: ProjectionContext) => Promise<void> }
  | {
      /**
       * `previous`: this runner's last unit of this projection, committed (null: none, or the
       * runner's first): a projection may carry its memory over instead of reading it back.
       */
      readonly openUnit: (previous: ProjectionUnit | null) => ProjectionUnit;
    }
);

/**
 * A projection that folds whole batches keeps what it folded in memory for as long as the
 * runner's unit stays open (one batch, or several while the commit is deferred) and puts each
 * document it changed once, when the unit commits.
 */
export type ProjectionUnit = {
  /** Folds the batch's events (log order) into the unit's memory; may read and put documents. */
  applyBatch(events: readonly RecordedEvent[], context: ProjectionContext): Promise<void>;
  /** Puts every document the unit changed and has not put; called once, just before the commit. */
  flush(context: ProjectionContext): void;
  /** Documents the unit will write: the runner commits once it holds too many. */
  heldDocumentCount(): number;
};

const POSITION_DIGITS = 20; // 2^64 has 20 decimal digits.

export const positionKeyOf = (position: bigint): string =>
  position.toString().padStart(POSITION_DIGITS, '0');

/** True when the document already includes the event at positionKey (a replayed delivery). */
export const includesPosition = (document: JsonObject | null, positionKey: string): boolean =>
  document !== null &&
  typeof document['positionKey'] === 'string' &&
  document['positionKey'] >= positionKey;

/** True when the document already includes this event (a replayed delivery). */
export const alreadyApplied = (document: JsonObject | null, event: RecordedEvent): boolean =>
  includesPosition(document, positionKeyOf(event.position));

/** The id after `<category>-`; streams are `<category>-<id>`. */
export const streamIdOf = (stream: string, category: string): string | null =>
  stream.startsWith(`${category}-`) ? stream.slice(category.length + 1) : null;

/** Values of read-model documents are JSON: the domain's views are plain data, so this only retypes. */
export const asJson = (value: unknown): JsonObject => value as JsonObject;

export const viewOf = (document: JsonObject): JsonObject => {
  const view: JsonValue | undefined = document['view'];
  return typeof view === 'object' && view !== null && !Array.isArray(view) ? view : {};
};

/**
 * Folds an event of `aggregate`'s category onto the state kept in its document, with the domain's
 * own evolve, so the read model cannot drift from what the write side decided. Null when the
 * event belongs to another category or the document already includes it.
 */
export const foldAggregateEvent = async <Event extends DomainEvent, State>(
  aggregate: StreamFold<Event, State>,
  collection: string,
  event: RecordedEvent,
  context: ProjectionContext,
): Promise<{
  id: string;
  document: JsonObject | null;
  previous: State;
  state: State;
  /** The event as its category's codec read it. */
  domainEvent: Event;
} | null> => {
  const id = streamIdOf(event.stream, aggregate.category);
  if (id === null) return null;
  const document = await context.get(collection, id);
  if (alreadyApplied(document, event)) return null;
  const previous = (document?.['state'] as unknown as State | undefined) ?? aggregate.initialState;
  const domainEvent = parseStored(aggregate, event);
  return { id, document, previous, state: aggregate.evolve(previous, domainEvent), domainEvent };
};
