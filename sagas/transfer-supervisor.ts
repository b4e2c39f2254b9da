import type { CommandContext } from '../domain/actors/actor-runtime';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.port';
import type {
  EventStore,
  EventSubscription,
  RecordedEvent,
} from '../domain/ports/event-store.port';
import type { TransferEvent } from '../domain/transfer/transfer.decider';
import type { TransferProcess } from '../domain/transfer/transfer.process';

/**
 * Follows the event log and finishes what requests left undone: a transfer whose steps stopped
 * half-way (crash, outage, overload) is resumed after `resumeGraceMs`, and a pending transfer
 * whose timeout elapsed is voided. Its knowledge comes from the log alone, and its checkpoint
 * stays before the oldest open transfer, so after a restart it sees every open transfer again.
 */
export type TransferSupervisorOptions = {
  store: EventStore;
  checkpoints: CheckpointStore;
  process: TransferProcess;
  clock: () => number;
  onError: (transferId: string, error: unknown) => void;
  resumeGraceMs: number;
  tickMs: number;
  transfersPerTickMax: number;
};

type OpenTransfer = { requestedPosition: bigint; lastChangeMs: number; dueAtMs: number | null };

const CHECKPOINT_NAME = 'transfer-supervisor';
const SUPERVISOR_ACTOR = { clientId: 'system:transfer-supervisor', role: 'system', ip: null };

export const createTransferSupervisor = (options: TransferSupervisorOptions) => {
  const open = new Map<string, OpenTransfer>();
  let subscription: EventSubscription | null = null;
  let lastPosition: bigint | null = null;
  let timer: NodeJS.Timeout | null = null;
  let following: Promise<void> = Promise.resolve();
  let ticking = false;

  const track = (event: RecordedEvent): void => {
    lastPosition = event.position;
    if (!event.stream.startsWith('transfer-')) return;
    const id = event.stream.slice('transfer-'.length);
    const changedMs = Date.parse(event.metadata.occurredAt);
    const transferEvent = event as unknown as TransferEvent;
    switch (transferEvent.type) {
      case 'TransferRequested':
        open.set(id, { requestedPosition: event.position, lastChangeMs: changedMs, dueAtMs: null });
        return;
      case 'TransferPending': {
        const entry = open.get(id);
        const { expiresAt } = transferEvent.data;
        if (entry === undefined || expiresAt === null) open.delete(id);
        else open.set(id, { ...entry, lastChangeMs: changedMs, dueAtMs: Date.parse(expiresAt) });
        return;
      }
      case 'TransferPostRequested':
      case 'TransferVoidRequested': {
        const entry = open.get(id);
        if (entry !== undefined) open.set(id, { ...entry, lastChangeMs: changedMs, dueAtMs: null });
        return;
      }
      case 'TransferPosted':
      case 'TransferRejected':
      case 'TransferVoided':
        open.delete(id);
    }
  };

  /** Everything before the oldest open transfer's intent is settled. */
  const safeCheckpoint = (): bigint | null => {
    let oldest: bigint | null = null;
    for (const entry of open.values()) {
      if (oldest === null || entry.requestedPosition < oldest) oldest = entry.requestedPosition;
    }
    return oldest === null ? lastPosition : oldest - 1n;
  };

  const context = (nowMs: number, transferId: string): CommandContext => ({
    correlationId: `supervisor:${transferId}`,
    causationId: null,
    actor: SUPERVISOR_ACTOR,
    idempotencyKey: null,
    now: new Date(nowMs).toISOString(),
    eventIdSeed: null,
  });

  /** One pass: resume stalled transfers and void expired ones, at most transfersPerTickMax. */
  const tick = async (): Promise<void> => {
    if (ticking) return;
    ticking = true;
    try {
      const nowMs = options.clock();
      const due = [...open.entries()]
        .filter(([, entry]) =>
          entry.dueAtMs === null
            ? nowMs - entry.lastChangeMs >= options.resumeGraceMs
            : nowMs >= entry.dueAtMs,
        )
        .slice(0, options.transfersPerTickMax);
      await Promise.all(
        due.map(async ([id, entry]) => {
          try {
            if (entry.dueAtMs === null) await options.process.resume(id, context(nowMs, id));
            else await options.process.void(id, 'expired', context(nowMs, id));
          } catch (error: unknown) {
            options.onError(id, error);
          }
        }),
      );
      const checkpoint = safeCheckpoint();
      if (checkpoint !== null) await options.checkpoints.save(CHECKPOINT_NAME, checkpoint);
    } finally {
      ticking = false;
    }
  };

  return {
    async start(): Promise<void> {
      const afterPosition = await options.checkpoints.load(CHECKPOINT_NAME);
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
    openTransferCount: (): number => open.size,
    async stop(): Promise<void> {
      if (timer !== null) clearInterval(timer);
      await subscription?.close();
      await following;
    },
  };
};

export type TransferSupervisor = ReturnType<typeof createTransferSupervisor>;
