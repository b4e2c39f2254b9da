import { createInProcessBus } from '../../adapters/bus/in-process.bus';
import type { AuditRecord } from '../../domain/ports/audit.port';
import type { BusMessage, MessageBus } from '../../domain/ports/bus.port';
import { recordChannelFact } from '../../domain/payment/channel-log.record';
import { createAuditTrail } from '../../sagas/audit.saga';
import { eventuallyTrue } from '../support/eventually';
import { testContext } from '../support/ledger-harness';
import { startSagaRig, type SagaRig } from './support/saga-harness';

/**
 * The audit saga: refused callbacks and alerts from `channellog-*` go out on ledger.audit.<kind>;
 * the API's reporter is bounded, never blocks and never throws.
 */
const CONSUMER = { ackWaitMs: 1000, deliveryCountMax: 3, backoffMs: [10] };

const collectAudit = async (bus: MessageBus): Promise<BusMessage[]> => {
  const seen: BusMessage[] = [];
  await bus.consume(
    { ...CONSUMER, durableName: 'test_audit', subjects: ['ledger.audit.>'] },
    (message) => {
      seen.push(message);
      return Promise.resolve({ kind: 'ack' });
    },
  );
  return seen;
};

const WAIT = { timeoutMs: 5000 };

describe('audit saga: channel log facts', () => {
  let rig: SagaRig;
  beforeEach(async () => {
    rig = await startSagaRig();
  });
  afterEach(() => rig.stop());

  it('publishes bad signatures, replayed callbacks and alerts from channellog streams', async () => {
    const seen = await collectAudit(rig.messaging.bus);
    const refused = (refusal: string, paymentId: string | null) => ({
      channel: 'sandbox',
      refusal,
      detail: 'x',
      status: 401,
      paymentId,
      requestId: `req-${refusal}`,
    });
    const context = testContext({ now: new Date().toISOString() });
    await recordChannelFact(
      rig.runtime,
      'a0000000-0000-4000-8000-000000000001',
      { type: 'ChannelCallbackRefused', data: refused('invalid_signature', null) },
      context,
    );
    await recordChannelFact(
      rig.runtime,
      'a0000000-0000-4000-8000-000000000002',
      { type: 'ChannelCallbackRefused', data: refused('replayed', 'p-2') },
      context,
    );
    const alert = {
      channel: 'sandbox',
      paymentId: 'p-3',
      reason: 'paid_after_close' as const,
      channelTransactionId: 'tx-3',
      amountMinor: 10,
      currency: 'EUR',
    };
    await recordChannelFact(
      rig.runtime,
      'a0000000-0000-4000-8000-000000000003',
      { type: 'ChannelAlertRaised', data: alert },
      context,
    );
    await recordChannelFact(
      rig.runtime,
      'a0000000-0000-4000-8000-000000000004',
      { type: 'ChannelCallbackRefused', data: refused('stale_signature', null) },
      context,
    );

    await eventuallyTrue(() => seen.length >= 4, { ...WAIT, what: 'four audit records' });
    const bySubject = seen.map((message) => [
      message.subject,
      (message.payload as AuditRecord).actor,
      (message.payload as AuditRecord).detail['type'],
    ]);
    expect(bySubject).toEqual(
      expect.arrayContaining([
        ['ledger.audit.bad_signature', 'sandbox', 'ChannelCallbackRefused'],
        ['ledger.audit.replayed_callback', 'sandbox', 'ChannelCallbackRefused'],
        ['ledger.audit.late_callback', 'sandbox', 'ChannelAlertRaised'],
      ]),
    );
    expect(seen.filter((message) => message.subject === 'ledger.audit.bad_signature')).toHaveLength(
      2,
    );
  });

  it('ignores ordinary channel calls', async () => {
    const seen = await collectAudit(rig.messaging.bus);
    const call = {
      channel: 'sandbox',
      operation: 'create_order' as const,
      paymentId: 'p-9',
      refundId: null,
      outcome: 'succeeded' as const,
      reason: null,
      attemptCount: 1,
      durationMs: 3,
    };
    await recordChannelFact(
      rig.runtime,
      'p-9',
      { type: 'ChannelCallRecorded', data: call },
      testContext({ now: new Date().toISOString() }),
    );
    rig.messaging.securityAudit.report('admin_action', 'admin', { action: 'marker' });
    await eventuallyTrue(() => seen.length >= 1, { ...WAIT, what: 'the marker record' });
    expect(seen.map((message) => message.subject)).toEqual(['ledger.audit.admin_action']);
  });
});

describe('audit saga: the API reporter', () => {
  const options = (bus: MessageBus, errors: string[]) => ({
    bus,
    recordCountMax: 10,
    reportInFlightMax: 2,
    clock: () => Date.parse('2025-03-01T10:00:00.000Z'),
    newId: (() => {
      let id = 0;
      return () => `id-${(id += 1)}`;
    })(),
    onReportError: (what: string) => void errors.push(what),
    ...CONSUMER,
  });

  it('keeps at most reportInFlightMax publishes in flight and drops (counting) the rest without blocking', () => {
    const published: string[] = [];
    const stuck: MessageBus = {
      publish: (subject) => (published.push(subject), new Promise<void>(() => undefined)),
      consume: () => Promise.reject(new Error('unused')),
      deadLetterPrefix: 'dl',
      close: () => Promise.resolve(),
    };
    const errors: string[] = [];
    const trail = createAuditTrail(options(stuck, errors));
    for (let index = 0; index < 5; index += 1)
      trail.reporter.report('rejected_command', 'merchant', { rejection: 'insufficient_funds' });
    expect(published).toEqual(['ledger.audit.rejected_command', 'ledger.audit.rejected_command']);
    expect(trail.droppedCount()).toBe(3);
    expect(errors).toEqual([
      'audit_record_dropped',
      'audit_record_dropped',
      'audit_record_dropped',
    ]);
  });

  it('reports a failed publish without throwing and frees its slot', async () => {
    const failing: MessageBus = {
      publish: () => Promise.reject(new Error('bus down')),
      consume: () => Promise.reject(new Error('unused')),
      deadLetterPrefix: 'dl',
      close: () => Promise.resolve(),
    };
    const errors: string[] = [];
    const trail = createAuditTrail(options(failing, errors));
    expect(() =>
      trail.reporter.report('admin_action', 'admin', { action: 'create_client' }),
    ).not.toThrow();
    await eventuallyTrue(() => errors.length === 1, {
      ...WAIT,
      what: 'the publish failure reported',
    });
    for (let index = 0; index < 2; index += 1)
      trail.reporter.report('admin_action', 'admin', { action: 'revoke_client' });
    expect(trail.droppedCount()).toBe(0);
    expect(errors[0]).toBe('audit_publish_failed');
  });

  it('keeps published records in the audit read model, newest first, once per auditId', async () => {
    const bus = createInProcessBus({
      retainedMessageCountMax: 100,
      deliveryConcurrencyMax: 16,
      duplicateWindowMs: 60_000,
      deadLetterPrefix: 'dl',
      clock: Date.now,
    });
    const trail = createAuditTrail(options(bus, []));
    await trail.start();
    trail.reporter.report('admin_action', 'admin', { action: 'create_client', clientId: 'shop-1' });
    trail.reporter.report('rejected_command', 'shop-1', { rejection: 'insufficient_funds' });
    await eventuallyTrue(() => trail.list(null).length === 2, {
      ...WAIT,
      what: 'two records in the trail',
    });
    expect(trail.list('rejected_command').map((entry) => [entry.auditId, entry.actor])).toEqual([
      ['api-id-2', 'shop-1'],
    ]);
    expect(trail.list(null).map((entry) => entry.kind)).toEqual([
      'rejected_command',
      'admin_action',
    ]);
    await trail.stop();
    await bus.close();
  });
});
