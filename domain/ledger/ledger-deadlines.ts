import type { CommandContext } from '../actors/actor-runtime.types';
import { parseStored } from '../aggregate';
import type { CheckpointStore } from '../ports/checkpoint-store.port';
import type { EventStore, EventSubscription, RecordedEvent } from '../ports/event-store.port';
import { transferStream } from '../transfer/transfer.decider';
import type { Ledger } from './ledger';

/**
 * The one owner of pending transfers' deadlines: it follows the log, keeps every pending
 * transfer that has an expiry, and asks the ledger to void it once the expiry has passed (the
 * ledger decides: a transfer posted meanwhile stays posted). Its checkpoint stays just before the
 * oldest pending transfer's creation, so after a restart it sees every open deadline again.
 * Two instances firing the same deadline void it once: the second decision finds it voided.
 */
type LedgerDeadlinesOptions = {
  store: EventStore;
  checkpoints: CheckpointStore;
  ledger: Ledger;
  clock: () => number;
  onError: (transferId: string, error: unknown) => void;
  tickMs: number;
  transfersPerTickMax: number;
};

type Deadline = { createdPosition: bigint; dueAtMs: number };

const CHECKPOINT_NAME = 'ledger-deadlines';
/** The checkpoint of the version before the ledger: before its oldest open transfer, too. */
const LEGACY_CHECKPOINT_NAME = 'transfer-supervisor';
const DEADLINE_ACTOR = { clientId: 'system:ledger-deadlines', role: 'system', ip: null };

export const createLedgerDeadlines = (options: LedgerDeadlinesOptions) => {
  const open = new Map<string, Deadline>();
  let subscription: EventSubscription | null = null;
  let lastPosition: bigint | null = null;
  let timer: NodeJS.Timeout | null = null;
  let following: Promise<void> = Promise.resolve();
  let ticking = false;

  const track = (event: RecordedEvent): void => {
    lastPosition = event.position;
    if (!event.stream.startsWith('transfer-')) return;
    const id = event.stream.slice('transfer-'.length);
    const transferEvent = parseStored(transferStream, event);
    switch (transferEvent.type) {
      case 'TransferCreated':
      case 'TransferPending': {
        // A legacy TransferPending comes after its intent; keep the intent's position if known.
        const { expiresAt } = transferEvent.data;
        const createdPosition = open.get(id)?.createdPosition ?? event.position;
        if (expiresAt !== null) open.set(id, { createdPosition, dueAtMs: Date.parse(expiresAt) });
        return;
      }
      case 'TransferPosted':
      case 'TransferVoided':
      case 'TransferRejected':
      case 'TransferRefused':
        open.delete(id);
    }
  };

  /** Everything before the oldest pending transfer's creation is settled. */
  const safeCheckpoint = (): bigint | null => {
    let oldest: bigint | null = null;
    for (const entry of open.values()) {
      if (oldest === null || entry.createdPosition < oldest) oldest = entry.createdPosition;
    }
    return oldest === null ? lastPosition : oldest - 1n;
  };

  const context = (nowMs: number, transferId: string): CommandContext => ({
    correlationId: `deadline:${transferId}`,
    causationId: null,
    actor: DEADLINE_ACTOR,
    idempotencyKey: null,
    now: new Date(nowMs).toISOString(),
    eventIdSeed: null,
  });

  /** One pass: void what is due, at most transfersPerTickMax; then save the checkpoint. */
  const tick = async (): Promise<void> => {
    if (ticking) return;
    ticking = true;
    try {
      const nowMs = options.clock();
      const due = [...open.entries()]
        .filter(([, entry]) => nowMs >= entry.dueAtMs)
        .slice(0, options.transfersPerTickMax);
      await Promise.all(
        due.map(async ([id]) => {
          try {
            await options.ledger.execute({
              commands: [
                {
                  command: { type: 'VoidTransfer', data: { transferId: id, reason: 'expired' } },
                  linked: false,
                },
              ],
              context: context(nowMs, id),
              idempotency: null,
            });
          } catch (error: unknown) {
            options.onError(id, error);
          }
        }),
      );
      const checkpoint = safeCheckpoint();
      // A failed save (a full disk) leaves the older checkpoint, from which a restart reads again
      // (voids are idempotent); the next tick saves again.
      if (checkpoint !== null)
        await options.checkpoints.save(CHECKPOINT_NAME, checkpoint).catch(() => undefined);
    } finally {
      ticking = false;
    }
  };

  return {
    async start(): Promise<void> {
      const own = await options.checkpoints.load(CHECKPOINT_NAME);
      const afterPosition = own ?? (await options.checkpoints.load(LEGACY_CHECKPOINT_NAME));
      lastPosition = afterPosition;
      const current = options.store.subscribeToAll({ afterPosition });
      subscription = current;
      following = (async () => {
        for await (const event of current) track(event);
      })();
      timer = setInterval(() => void tick(), options.tickMs);
      timer.unref();
    },
    tick,
    /** Pending transfers with a deadline, as far as the log has been followed. */
    openDeadlineCount: (): number => open.size,
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      await subscription?.close();
      await following;
    },
  };
};
