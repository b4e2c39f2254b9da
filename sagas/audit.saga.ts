import { AssertionError } from '../domain/assert';
import { nodeStatusAggregate } from '../domain/node/node-status.decider';
import { channelLogAggregate } from '../domain/payment/channel-log.decider';
import { paymentAggregate, type FlagReason } from '../domain/payment/payment.decider';
import type { AuditRecord, AuditSink } from '../domain/ports/audit.port';
import type {
  BusMessage,
  Consumption,
  DeliveryOutcome,
  MessageBus,
} from '../domain/ports/bus.port';
import type { JsonObject } from '../domain/ports/event-store.port';
import { categoryOf, parseLedgerEvent, type LedgerEvent } from './saga-definition';
import { ledgerEventOf } from './saga-host';

/**
 * Security-relevant facts go out on `ledger.audit.<kind>`: those the API reports through the
 * AuditSink or its bounded `reporter` (rejected commands, admin actions) and those the log shows:
 * refused callbacks (bad or stale signature, replayed) and alerts on `channellog-*`, and a paid
 * callback for a closed or already paid payment (PaymentFlagged), and a node gone silent
 * (NodeWentSilent on `nodestatus-*`, recorded once however many instances saw it, so alerted
 * once: the record's id is the event's). A durable consumer keeps the
 * latest `recordCountMax` in the audit read model, newest first.
 */
const AUDIT_SUBJECT_PREFIX = 'ledger.audit';
const AUDIT_KINDS = new Set<AuditRecord['kind']>([
  'bad_signature',
  'replayed_callback',
  'late_callback',
  'rejected_command',
  'admin_action',
  'node_silent',
]);

const auditRecordOf = (payload: JsonObject): AuditRecord | null => {
  const { auditId, kind, occurredAt, actor, detail } = payload;
  if (typeof auditId !== 'string' || typeof kind !== 'string' || typeof occurredAt !== 'string')
    return null;
  if (
    !AUDIT_KINDS.has(kind as AuditRecord['kind']) ||
    (actor !== null && typeof actor !== 'string')
  )
    return null;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return null;
  return { auditId, kind: kind as AuditRecord['kind'], occurredAt, actor, detail };
};

const LOG_SUBJECTS = [
  'ledger.events.payment.PaymentFlagged',
  'ledger.events.channellog.ChannelCallbackRefused',
  'ledger.events.channellog.ChannelAlertRaised',
  'ledger.events.nodestatus.NodeWentSilent',
];

type SecurityFact = { kind: AuditRecord['kind']; actor: string | null; data: JsonObject };

/** A paid callback that must not credit: a replay when already paid, else a late one. */
const paidKindOf = (reason: FlagReason): AuditRecord['kind'] =>
  reason === 'paid_twice' ? 'replayed_callback' : 'late_callback';

/** The security fact an event of the log records, read through its category's codec. */
const securityFactOf = (event: LedgerEvent): SecurityFact | null => {
  switch (categoryOf(event.stream)) {
    case 'nodestatus': {
      const status = parseLedgerEvent(nodeStatusAggregate, event);
      if (status.type !== 'NodeWentSilent') return null;
      return { kind: 'node_silent', actor: status.data.nodeId, data: status.data };
    }
    case 'channellog': {
      const fact = parseLedgerEvent(channelLogAggregate, event);
      if (fact.type === 'ChannelAlertRaised')
        return { kind: paidKindOf(fact.data.reason), actor: fact.data.channel, data: fact.data };
      if (fact.type !== 'ChannelCallbackRefused') return null;
      const { refusal } = fact.data;
      const kind =
        refusal === 'replayed'
          ? 'replayed_callback'
          : refusal.includes('signature')
            ? 'bad_signature'
            : 'rejected_command';
      return { kind, actor: fact.data.channel, data: fact.data };
    }
    case 'payment': {
      const payment = parseLedgerEvent(paymentAggregate, event);
      if (payment.type !== 'PaymentFlagged') return null;
      return { kind: paidKindOf(payment.data.reason), actor: null, data: payment.data };
    }
    default:
      return null;
  }
};

type AuditTrailOptions = {
  bus: MessageBus;
  recordCountMax: number;
  /** Reporter records publishing at once; past it a record is dropped (and counted), never queued. */
  reportInFlightMax: number;
  onReportError: (what: string, fields: Record<string, unknown>) => void;
  clock: () => number;
  newId: () => string;
  ackWaitMs: number;
  deliveryCountMax: number;
  backoffMs: readonly number[];
};

export const createAuditTrail = (options: AuditTrailOptions) => {
  const records: AuditRecord[] = [];
  const seen = new Set<string>();
  const consumptions: Consumption[] = [];

  const sink: AuditSink = {
    record: (entry) =>
      options.bus.publish(`${AUDIT_SUBJECT_PREFIX}.${entry.kind}`, entry.auditId, entry),
  };

  let inFlightCount = 0;
  let droppedCount = 0;
  /** For the API: never awaited by a response, bounded in flight, failures logged not thrown. */
  const reporter = {
    report(kind: AuditRecord['kind'], actor: string | null, detail: JsonObject): void {
      if (inFlightCount >= options.reportInFlightMax) {
        droppedCount += 1;
        options.onReportError('audit_record_dropped', { kind, droppedCount });
        return;
      }
      inFlightCount += 1;
      const entry = {
        auditId: `api-${options.newId()}`,
        kind,
        occurredAt: new Date(options.clock()).toISOString(),
        actor,
        detail,
      };
      sink
        .record(entry)
        .catch((error: unknown) =>
          options.onReportError('audit_publish_failed', { kind, error: String(error) }),
        )
        .finally(() => (inFlightCount -= 1));
    },
  };

  const keep = (entry: AuditRecord): void => {
    if (seen.has(entry.auditId)) return;
    seen.add(entry.auditId);
    records.unshift(entry);
    const dropped = records.splice(options.recordCountMax);
    for (const old of dropped) seen.delete(old.auditId);
  };

  const onMessage = async (message: BusMessage): Promise<DeliveryOutcome> => {
    if (message.subject.startsWith(`${AUDIT_SUBJECT_PREFIX}.`)) {
      const entry = auditRecordOf(message.payload);
      if (entry === null) return { kind: 'dead_letter', reason: 'malformed_audit_record' };
      keep(entry);
      return { kind: 'ack' };
    }
    const event = ledgerEventOf(message.payload);
    if (event === null) return { kind: 'dead_letter', reason: 'malformed_event_payload' };
    let fact: SecurityFact | null;
    try {
      fact = securityFactOf(event);
    } catch (error) {
      if (error instanceof AssertionError) return { kind: 'dead_letter', reason: error.message };
      throw error;
    }
    if (fact === null) return { kind: 'ack' };
    await sink.record({
      auditId: `event-${event.id}`,
      kind: fact.kind,
      occurredAt: event.occurredAt,
      actor: fact.actor,
      detail: { stream: event.stream, type: event.type, ...fact.data },
    });
    return { kind: 'ack' };
  };

  return {
    sink,
    reporter,
    /** Reporter records dropped because too many were in flight. */
    droppedCount: (): number => droppedCount,
    /** The newest records first, optionally of one kind. */
    list: (kind: AuditRecord['kind'] | null): readonly AuditRecord[] =>
      records.filter((entry) => kind === null || entry.kind === kind),
    async start(): Promise<void> {
      const common = {
        ackWaitMs: options.ackWaitMs,
        deliveryCountMax: options.deliveryCountMax,
        backoffMs: options.backoffMs,
      };
      consumptions.push(
        await options.bus.consume(
          { ...common, durableName: 'audit_flags', subjects: LOG_SUBJECTS },
          onMessage,
        ),
      );
      consumptions.push(
        await options.bus.consume(
          { ...common, durableName: 'audit_read_model', subjects: [`${AUDIT_SUBJECT_PREFIX}.>`] },
          onMessage,
        ),
      );
    },
    async stop(): Promise<void> {
      await Promise.all(consumptions.splice(0).map((consumption) => consumption.stop()));
    },
  };
};
