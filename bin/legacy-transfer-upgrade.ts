import type { Logger } from 'winston';
import type { CommandContext } from '../domain/actors/actor-runtime';
import { accountAggregate, type AccountEvent } from '../domain/account/account.decider';
import { parseStored } from '../domain/aggregate';
import type { Ledger } from '../domain/ledger/ledger';
import type { LegacyLegsSeen } from '../domain/ledger/legacy-transfer';
import type { CheckpointStore } from '../domain/ports/checkpoint-store.port';
import type { EventStore, RecordedEvent } from '../domain/ports/event-store.port';
import { transferStream } from '../domain/transfer/transfer.decider';
import { appendUpgradeMarker } from './upgrade-marker';

/**
 * The first start of the ledger on a log written by the four-step transfer process finishes the
 * transfers that process left half-done, once, before anything else can touch them. It scans
 * the log from that version's supervisor checkpoint (kept before its oldest open transfer; from
 * the start without one), notes each open transfer and the legs of it that landed, has the
 * ledger finish each in one atomic decision, then appends a marker so later starts scan nothing.
 */
const LEGACY_TRANSFER_MARKER_STREAM = 'ledgerupgrade-transfers';
const LEGACY_SUPERVISOR_CHECKPOINT = 'transfer-supervisor';
const PAGE_EVENT_COUNT_MAX = 1000;
const UPGRADE_ACTOR = { clientId: 'system:ledger-upgrade', role: 'system', ip: null };

type Open = LegacyLegsSeen & { half: boolean };

type UpgradeResult =
  | { kind: 'already_done' }
  | { kind: 'empty_log' }
  | { kind: 'finished'; finishedCount: number; refusedCount: number };

/** Follows an account event of the scan: which legs of the open transfers landed. */
const trackLeg = (open: Map<string, Open>, event: AccountEvent): void => {
  if (event.type === 'AccountOpened' || event.type === 'AccountClosed') return;
  const entry = open.get(event.data.transferId);
  if (entry === undefined) return;
  if (event.type === 'AccountDebited') entry.debit = true;
  if (event.type === 'AccountCredited') entry.credit = true;
  const voidedDebit = event.type === 'PendingLegVoided' && event.data.side === 'debit';
  if (event.type === 'AccountDebitReversed' || (voidedDebit && entry.half))
    entry.debitCompensated = true;
};

/** Follows one event of the scan: which transfers are open, and which of their legs landed. */
const track = (open: Map<string, Open>, event: RecordedEvent): void => {
  if (event.stream.startsWith('account-')) {
    trackLeg(open, parseStored(accountAggregate, event));
    return;
  }
  if (!event.stream.startsWith('transfer-')) return;
  const id = event.stream.slice('transfer-'.length);
  switch (parseStored(transferStream, event).type) {
    case 'TransferRequested':
      open.set(id, { debit: false, credit: false, debitCompensated: false, half: true });
      return;
    case 'TransferPostRequested':
    case 'TransferVoidRequested':
      open.set(id, { debit: true, credit: true, debitCompensated: false, half: false });
      return;
    case 'TransferPending':
    case 'TransferPosted':
    case 'TransferRejected':
    case 'TransferVoided':
      open.delete(id);
  }
};

export const finishLegacyTransfers = async (deps: {
  store: EventStore;
  ledger: Ledger;
  checkpoints: CheckpointStore;
  logger: Logger;
  nowMs: () => number;
}): Promise<UpgradeResult> => {
  const { store, ledger, logger } = deps;
  const marker = await store.readStream(LEGACY_TRANSFER_MARKER_STREAM, {
    fromRevision: 0,
    direction: 'forwards',
    eventCountMax: 1,
  });
  if (marker.length > 0) return { kind: 'already_done' };
  const headPosition = await store.headPosition();
  if (headPosition === null) return { kind: 'empty_log' };
  const open = new Map<string, Open>();
  let after = await deps.checkpoints.load(LEGACY_SUPERVISOR_CHECKPOINT);
  const scannedFrom = after;
  while (after === null || after < headPosition) {
    const page = await store.readAll({ afterPosition: after, eventCountMax: PAGE_EVENT_COUNT_MAX });
    for (const event of page) if (event.position <= headPosition) track(open, event);
    const last = page[page.length - 1];
    if (last === undefined) break;
    after = last.position;
  }
  const now = new Date(deps.nowMs()).toISOString();
  let refusedCount = 0;
  for (const [transferId, seen] of open) {
    const reply = await ledger.execute({
      commands: [
        {
          command: {
            type: 'FinishLegacyTransfer',
            data: {
              transferId,
              seen: {
                debit: seen.debit,
                credit: seen.credit,
                debitCompensated: seen.debitCompensated,
              },
            },
          },
          linked: false,
        },
      ],
      context: upgradeContext(transferId, now),
      idempotency: null,
    });
    const outcome = reply.kind === 'decided' ? reply.outcomes[0] : undefined;
    const status =
      outcome?.ok === true && outcome.subject.kind === 'transfer'
        ? outcome.subject.transfer.status
        : 'refused';
    if (status === 'rejected' || status === 'refused') refusedCount += 1;
    logger.info('legacy_transfer_finished', { transferId, status });
  }
  await appendUpgradeMarker(store, {
    stream: LEGACY_TRANSFER_MARKER_STREAM,
    type: 'LegacyTransfersFinished',
    data: {
      scannedFromPosition: scannedFrom === null ? null : scannedFrom.toString(),
      scannedToPosition: headPosition.toString(),
      finishedCount: open.size,
      refusedCount,
      finishedAt: now,
    },
    actor: UPGRADE_ACTOR,
    now,
  });
  return { kind: 'finished', finishedCount: open.size, refusedCount };
};

const upgradeContext = (transferId: string, now: string): CommandContext => ({
  correlationId: `ledger-upgrade:${transferId}`,
  causationId: null,
  actor: UPGRADE_ACTOR,
  idempotencyKey: null,
  now,
  eventIdSeed: null,
});
