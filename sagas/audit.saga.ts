import type { AuditRecord, AuditSink } from '../domain/ports/audit.port';
import type { BusMessage, Consumption, DeliveryOutcome, MessageBus } from '../domain/ports/bus.port';
import type { JsonObject } from '../domain/ports/event-store.port';
import { ledgerEventOf } from './saga-host';

/**
 * Security-relevant facts go out on `ledger.audit.<kind>`: those the API reports through the
 * AuditSink (bad signatures, rejected commands, admin actions) and those the log shows (a paid
 * callback for a closed or already paid payment: PaymentFlagged). A durable consumer keeps the
 * latest `recordCountMax` in the audit read model, newest first.
 */
export const AUDIT_SUBJECT_PREFIX = 'ledger.audit';
const AUDIT_KINDS = new Set<AuditRecord['kind']>(['bad_signature', 'replayed_callback', 'late_callback', 'rejected_command', 'admin_action']);

const auditRecordOf = (payload: JsonObject): AuditRecord | null => {
  const { auditId, kind, occurredAt, actor, detail } = payload;
  if (typeof auditId !== 'string' || typeof kind !== 'string' || typeof occurredAt !== 'string') return null;
  if (!AUDIT_KINDS.has(kind as AuditRecord['kind']) || (actor !== null && typeof actor !== 'string')) return null;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return null;
  return { auditId, kind: kind as AuditRecord['kind'], occurredAt, actor, detail };
};

export const createAuditTrail = (options: { bus: MessageBus; recordCountMax: number; ackWaitMs: number; deliveryCountMax: number; backoffMs: readonly number[] }) => {
  const records: AuditRecord[] = [];
  const seen = new Set<string>();
  const consumptions: Consumption[] = [];

  const sink: AuditSink = {
    record: (entry) => options.bus.publish(`${AUDIT_SUBJECT_PREFIX}.${entry.kind}`, entry.auditId, entry),
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
    const reason = event.data['reason'];
    await sink.record({
      auditId: `event-${event.id}`,
      kind: reason === 'paid_twice' ? 'replayed_callback' : 'late_callback',
      occurredAt: event.occurredAt,
      actor: null,
      detail: { stream: event.stream, ...event.data },
    });
    return { kind: 'ack' };
  };

  return {
    sink,
    /** The newest records first, optionally of one kind. */
    list: (kind: AuditRecord['kind'] | null): readonly AuditRecord[] => records.filter((entry) => kind === null || entry.kind === kind),
    async start(): Promise<void> {
      const common = { ackWaitMs: options.ackWaitMs, deliveryCountMax: options.deliveryCountMax, backoffMs: options.backoffMs };
      consumptions.push(await options.bus.consume({ ...common, durableName: 'audit_flags', subjects: ['ledger.events.payment.PaymentFlagged'] }, onMessage));
      consumptions.push(await options.bus.consume({ ...common, durableName: 'audit_read_model', subjects: [`${AUDIT_SUBJECT_PREFIX}.>`] }, onMessage));
    },
    async stop(): Promise<void> {
      await Promise.all(consumptions.splice(0).map((consumption) => consumption.stop()));
    },
  };
};

export type AuditTrail = ReturnType<typeof createAuditTrail>;
