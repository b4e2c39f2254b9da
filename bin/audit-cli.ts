import { createBalanceAudit, type BalanceReport } from '../domain/audit/balance-audit';
import { EMPTY_CHAIN, verifyChain, type ChainBreak, type ChainTail } from '../domain/event-chain';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.port';

const PAGE_EVENT_COUNT_MAX = 1000;

/** Calls visit for every event of the global log, in order, page by page. */
const forEachEvent = async (store: EventStore, visit: (event: RecordedEvent) => void): Promise<number> => {
  let afterPosition: bigint | null = null;
  let count = 0;
  for (;;) {
    const page = await store.readAll({ afterPosition, eventCountMax: PAGE_EVENT_COUNT_MAX });
    page.forEach(visit);
    count += page.length;
    const last = page[page.length - 1];
    if (last === undefined) return count;
    afterPosition = last.position;
  }
};

/** Σ credits − Σ debits per currency over every account, from the log alone. */
export const auditBalances = async (store: EventStore): Promise<BalanceReport> => {
  const audit = createBalanceAudit();
  await forEachEvent(store, (event) => audit.apply(event));
  return audit.report();
};

export type ChainReport = { eventCount: number; streamCount: number; broken: ChainBreak | null };

/** Recomputes every stream's hash chain and reports the first broken link. */
export const verifyChains = async (store: EventStore): Promise<ChainReport> => {
  const tails = new Map<string, ChainTail>();
  let broken: ChainBreak | null = null;
  const eventCount = await forEachEvent(store, (event) => {
    if (broken !== null) return;
    const checked = verifyChain(tails.get(event.stream) ?? EMPTY_CHAIN, [event]);
    if (checked.ok) tails.set(event.stream, checked.tail);
    else broken = checked.broken;
  });
  return { eventCount, streamCount: tails.size, broken };
};
