import { accountAggregate } from '../../domain/account/account.decider';
import {
  parseStored,
  toStored,
  versionedEventCodec,
  type DomainEvent,
  type EventCodec,
  type StoredEvent,
} from '../../domain/aggregate';
import { AssertionError } from '../../domain/assert';
import { itemAggregate } from '../../domain/item/item.decider';
import { stringField } from '../../domain/json-fields';
import { nodeStatusAggregate } from '../../domain/node/node-status.decider';
import { nodeRegistryAggregate } from '../../domain/node/node.decider';
import { channelLogAggregate } from '../../domain/payment/channel-log.decider';
import { paymentAggregate, type PaymentEvent } from '../../domain/payment/payment.decider';
import { planAggregate, planSeedAggregate } from '../../domain/plan/plan.decider';
import { buyerDayAggregate } from '../../domain/risk/buyer-day';
import { riskAttemptsAggregate } from '../../domain/risk/risk-attempts';
import { riskRefusalAggregate, riskRulesAggregate } from '../../domain/risk/risk-rules';
import { sagaAggregate } from '../../domain/saga/saga.decider';
import { trafficAggregate } from '../../domain/traffic/traffic.decider';
import { transferStream } from '../../domain/transfer/transfer.decider';
import { webhookNoticeAggregate } from '../../domain/webhook/webhook-notice.decider';

const NOW = '2026-12-06T10:00:00.000Z';

/** A category's parser, whatever its union. */
const probe = <Event extends DomainEvent>(fold: {
  readonly category: string;
  readonly eventCodec: EventCodec<Event>;
}) => ({
  category: fold.category,
  schemaVersion: fold.eventCodec.schemaVersion,
  parse: (event: StoredEvent): Event => parseStored(fold, event),
});

/** Every category the service writes through an aggregate: each has its one parser. */
const CATEGORIES = [
  probe(accountAggregate),
  probe(transferStream),
  probe(paymentAggregate),
  probe(channelLogAggregate),
  probe(itemAggregate),
  probe(planAggregate),
  probe(planSeedAggregate),
  probe(trafficAggregate),
  probe(sagaAggregate),
  probe(nodeRegistryAggregate),
  probe(nodeStatusAggregate),
  probe(riskAttemptsAggregate),
  probe(riskRulesAggregate),
  probe(riskRefusalAggregate),
  probe(buyerDayAggregate),
  probe(webhookNoticeAggregate),
];

const stored = (type: string, data: StoredEvent['data'], schemaVersion = 1): StoredEvent => ({
  type,
  data,
  metadata: { schemaVersion },
  stream: 'payment-p1',
  revision: 4,
});

describe('the event codecs', () => {
  it.each(CATEGORIES.map((codec) => [codec.category, codec] as const))(
    '%s: refuses an event type it does not know, and a version newer than it writes',
    (_category, codec) => {
      const where = 'malformed event at payment-p1 revision 4 (NotAnEvent schemaVersion';
      expect(() => codec.parse(stored('NotAnEvent', {}))).toThrow(AssertionError);
      expect(() => codec.parse(stored('NotAnEvent', {}))).toThrow(where);
      const newer = codec.schemaVersion + 1;
      expect(() => codec.parse(stored('NotAnEvent', {}, newer))).toThrow(/unknown schemaVersion/);
    },
  );

  it('upcasts a stored event up the chain from its own version, then checks the result', () => {
    type Renamed = { type: 'Renamed'; data: { name: string; by: string } };
    const codec = versionedEventCodec<Renamed>({
      upcasters: [
        // Version 1 called it `title`; version 2 added `by`, unknown before.
        (_type, { title, ...rest }) => ({ ...rest, name: title ?? null }),
        (_type, data) => ({ ...data, by: 'unknown' }),
      ],
      encode: (event) => event.data,
      parse: (type, data) => {
        if (type !== 'Renamed') throw new AssertionError(`unknown event type ${type}`);
        return { type, data: { name: stringField(data, 'name'), by: stringField(data, 'by') } };
      },
    });
    const fold = { eventCodec: codec };
    expect(codec.schemaVersion).toBe(3);
    expect(parseStored(fold, stored('Renamed', { title: 'a' }, 1)).data).toEqual({
      name: 'a',
      by: 'unknown',
    });
    expect(parseStored(fold, stored('Renamed', { name: 'b' }, 2)).data).toEqual({
      name: 'b',
      by: 'unknown',
    });
    expect(parseStored(fold, stored('Renamed', { name: 'c', by: 'ops' }, 3)).data).toEqual({
      name: 'c',
      by: 'ops',
    });
    expect(() => parseStored(fold, stored('Renamed', { name: 'd' }, 3))).toThrow(
      'malformed event at payment-p1 revision 4 (Renamed schemaVersion 3): by: not a string',
    );
    expect(() => parseStored(fold, stored('Renamed', { name: 'e' }, 0))).toThrow(
      'unknown schemaVersion 0',
    );
  });

  describe('payment', () => {
    const created: Extract<PaymentEvent, { type: 'PaymentCreated' }> = {
      type: 'PaymentCreated',
      data: {
        paymentId: 'p1',
        merchantId: 'm1',
        merchantOrderNo: 'order-1',
        amountMinor: 1999,
        currency: 'EUR',
        channel: 'sandbox',
        subject: 'a phone',
        creditAccountId: 'wallet-1',
        expiresAt: NOW,
        createdAt: NOW,
      },
    };
    const readBack = (event: PaymentEvent): PaymentEvent => {
      const { data, schemaVersion } = toStored(paymentAggregate, event);
      return parseStored(paymentAggregate, stored(event.type, data, schemaVersion));
    };

    it('keeps an absent optional field absent, and a present one as written', () => {
      const plain = readBack(created);
      expect(plain).toEqual(created);
      expect(plain.data).not.toHaveProperty('notifyUrl');
      const full = {
        ...created,
        data: {
          ...created.data,
          notifyUrl: 'https://merchant.example/notify',
          returnUrl: 'https://merchant.example/done',
          description: 'order 1',
          holder: { subjectId: 's1', fields: ['name' as const], sealed: 'c2VhbGVk' },
        },
      };
      expect(readBack(full)).toEqual(full);
    });

    it('refuses a damaged event, naming the field', () => {
      const damaged = { ...created.data, notifyUrl: 42 };
      expect(() => parseStored(paymentAggregate, stored('PaymentCreated', damaged))).toThrow(
        'malformed event at payment-p1 revision 4 (PaymentCreated schemaVersion 1): notifyUrl',
      );
      expect(() =>
        parseStored(
          paymentAggregate,
          stored('PaymentCreated', { ...created.data, channel: 'cash' }),
        ),
      ).toThrow("channel: 'cash' is not one of");
      expect(() =>
        parseStored(
          paymentAggregate,
          stored('RefundRequested', { refundId: 'r1', amountMinor: -1 }),
        ),
      ).toThrow('amountMinor');
    });
  });
});
