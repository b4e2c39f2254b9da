import { parseStored } from '../domain/aggregate';
import { itemAggregate, type ItemRecord } from '../domain/item/item.decider';
import { PURCHASE_ID_PREFIX } from '../domain/item/item-sale';
import { planAggregate, type PlanRecord } from '../domain/plan/plan.decider';
import type {
  EventStore,
  EventSubscription,
  RecordedEvent,
} from '../domain/ports/event-store.port';
import { transferStream } from '../domain/transfer/transfer.decider';

/**
 * The catalogue and the buyers' orders, folded from the log into memory at start and kept live:
 * every item (from its `item-*` stream), every plan (from its `plan-*` stream) and, per buyer, the items they hold a purchase of (from
 * the purchases' TransferCreated). The answers' live parts (stock, a purchase's status) are read
 * from the ledger by the routes, so this only lists; it lags the log by a moment.
 */
export type ItemCatalogue = {
  items(): readonly ItemRecord[];
  plans(): readonly PlanRecord[];
  /** Item ids of the buyer's purchases, oldest first. */
  itemIdsOfBuyer(buyerId: string): readonly string[];
  /** Whether it has folded the log as it was when it started (then it lags by a moment only). */
  caughtUp(): boolean;
  start(): void;
  stop(): Promise<void>;
};

const SALE_REFERENCE = /^sale:([^:]+):(.+)$/;

export const createItemCatalogue = (options: { store: EventStore }): ItemCatalogue => {
  const items = new Map<string, ItemRecord>();
  const plans = new Map<string, PlanRecord>();
  const buyers = new Map<string, string[]>();
  let subscription: EventSubscription | null = null;
  /** The log's head when it started (undefined: not known yet), and the last position folded. */
  let startHead: bigint | null | undefined;
  let foldedPosition: bigint | null = null;
  let following: Promise<void> = Promise.resolve();

  const apply = (event: RecordedEvent): void => {
    foldedPosition = event.position;
    if (event.stream.startsWith('item-')) {
      const itemId = event.stream.slice('item-'.length);
      const next = itemAggregate.evolve(
        items.get(itemId) ?? itemAggregate.initialState,
        parseStored(itemAggregate, event),
      );
      if (next.status !== 'none') items.set(itemId, next);
      return;
    }
    if (event.stream.startsWith('plan-')) {
      const planId = event.stream.slice('plan-'.length);
      const next = planAggregate.evolve(
        plans.get(planId) ?? planAggregate.initialState,
        parseStored(planAggregate, event),
      );
      if (next.status !== 'none') plans.set(planId, next);
      return;
    }
    if (!event.stream.startsWith(`transfer-${PURCHASE_ID_PREFIX}`)) return;
    const transfer = parseStored(transferStream, event);
    if (transfer.type !== 'TransferCreated') return;
    const match = SALE_REFERENCE.exec(transfer.data.reference);
    if (match === null) return;
    const [, itemId = '', buyerId = ''] = match;
    const list = buyers.get(buyerId) ?? [];
    if (!list.includes(itemId)) list.push(itemId);
    buyers.set(buyerId, list);
  };

  return {
    items: () => [...items.values()],
    plans: () => [...plans.values()],
    itemIdsOfBuyer: (buyerId) => buyers.get(buyerId) ?? [],
    caughtUp: () =>
      startHead === null ||
      (startHead !== undefined && foldedPosition !== null && foldedPosition >= startHead),
    start(): void {
      void options.store.headPosition().then(
        (head) => void (startHead = head),
        () => undefined, // Unknown: never caught up, so readers take the exact path.
      );
      const source = options.store.subscribeToAll({ afterPosition: null });
      subscription = source;
      following = (async () => {
        for await (const event of source) apply(event);
      })();
    },
    async stop(): Promise<void> {
      await subscription?.close();
      await following;
    },
  };
};
