import type { JsonObject } from './event-store.port';

/**
 * A security-relevant fact: bad signature, replayed or late callback, rejected command, admin
 * action, or an operational alert: a proxy node gone silent past its timeout.
 */
export type AuditRecord = {
  /** Unique per fact: a repeated record with the same id is kept once. */
  auditId: string;
  kind:
    | 'bad_signature'
    | 'replayed_callback'
    | 'late_callback'
    | 'rejected_command'
    | 'admin_action'
    | 'node_silent';
  occurredAt: string;
  /** Client id, channel, node id or IP that caused it, when known. */
  actor: string | null;
  detail: JsonObject;
};

export interface AuditSink {
  /** Publishes the record on ledger.audit.<kind>; resolves once the bus stored it. */
  record(entry: AuditRecord): Promise<void>;
}
