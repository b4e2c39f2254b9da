import { AssertionError } from '../../../domain/assert';
import {
  effectiveLevelOf,
  trafficAggregate,
  trafficUserOf,
  type SubscriptionTerms,
  type TrafficCommand,
  type TrafficEvent,
} from '../../../domain/traffic/traffic.decider';
import { trafficEventCodec } from '../../../domain/traffic/traffic.events';
import { trafficSnapshotCodec } from '../../../domain/traffic/traffic.snapshot';
import { deciderSpec } from '../../support/decider-spec';

const given = deciderSpec(trafficAggregate);
const DAY_MS = 24 * 3600 * 1000;
const t0 = '2026-03-01T00:00:00.000Z';
const at = (ms: number): string => new Date(Date.parse(t0) + ms).toISOString();
const terms = (
  purchaseId: string,
  level = 2,
  durationSeconds = 30 * 86_400,
): SubscriptionTerms => ({
  purchaseId,
  planId: 'pro',
  level,
  group: 'asia',
  durationSeconds,
  amountMinor: 2999,
  currency: 'EUR',
});
const purchase = (
  purchaseId: string,
  now: string,
  level = 2,
  durationSeconds?: number,
): TrafficCommand => ({
  type: 'GrantQuota',
  data: {
    userId: 'alice',
    grantId: `plan-${purchaseId}`,
    quotaBytes: 1000,
    reason: 'plan',
    now,
    subscription: terms(purchaseId, level, durationSeconds),
  },
});
const purchased = (purchaseId: string, now: string, expiresAt: string, level = 2): TrafficEvent => {
  const { durationSeconds: _seconds, ...kept } = terms(purchaseId, level);
  return {
    type: 'QuotaGranted',
    data: {
      userId: 'alice',
      grantId: `plan-${purchaseId}`,
      quotaBytes: 1000,
      reason: 'plan',
      grantedAt: now,
      subscription: { ...kept, expiresAt },
    },
  };
};
const stateOf = (events: readonly TrafficEvent[]) =>
  events.reduce(trafficAggregate.evolve, trafficAggregate.initialState);

describe('plan purchases: level, group and expiry in the quota grant', () => {
  it('sets level, group and an expiry durationSeconds after the grant, with the quota', () => {
    given([])
      .when(purchase('p1', t0))
      .then([purchased('p1', t0, at(30 * DAY_MS))]);
    const alice = trafficUserOf(stateOf([purchased('p1', t0, at(30 * DAY_MS))]), 'alice');
    expect(alice).toMatchObject({ level: 2, group: 'asia', quotaBytes: 1000 });
  });

  it('extends a running plan from its expiry, and a retried purchase appends nothing', () => {
    const first = purchased('p1', t0, at(30 * DAY_MS));
    given([first])
      .when(purchase('p2', at(DAY_MS)))
      .then([purchased('p2', at(DAY_MS), at(60 * DAY_MS))]);
    given([first])
      .when(purchase('p1', at(DAY_MS)))
      .then([]);
  });

  it('decides a purchase racing its expiry by the grant time: at the expiry instant it starts anew', () => {
    const first = purchased('p1', t0, at(30 * DAY_MS));
    const oneMsBefore = at(30 * DAY_MS - 1);
    given([first])
      .when(purchase('p2', oneMsBefore))
      .then([purchased('p2', oneMsBefore, at(60 * DAY_MS))]);
    const atExpiry = at(30 * DAY_MS);
    given([first])
      .when(purchase('p2', atExpiry))
      .then([purchased('p2', atExpiry, at(60 * DAY_MS))]);
    const after = at(30 * DAY_MS + 5);
    given([first])
      .when(purchase('p2', after))
      .then([purchased('p2', after, at(60 * DAY_MS + 5))]);
  });

  it('runs a pass of 60 seconds for 60 seconds, from the grant or the running expiry', () => {
    given([])
      .when(purchase('trial', t0, 1, 60))
      .then([purchased('trial', t0, at(60_000), 1)]);
    const trial = purchased('trial', t0, at(60_000), 1);
    given([trial])
      .when(purchase('again', at(10_000), 1, 60))
      .then([purchased('again', at(10_000), at(120_000), 1)]);
    const alice = trafficUserOf(stateOf([trial]), 'alice');
    expect(effectiveLevelOf(alice, Date.parse(at(59_999)))).toBe(1);
    expect(effectiveLevelOf(alice, Date.parse(at(60_000)))).toBe(0);
  });

  it('drops an expired user to level 0, at the expiry instant exactly', () => {
    const alice = trafficUserOf(stateOf([purchased('p1', t0, at(30 * DAY_MS))]), 'alice');
    expect(effectiveLevelOf(alice, Date.parse(at(30 * DAY_MS - 1)))).toBe(2);
    expect(effectiveLevelOf(alice, Date.parse(at(30 * DAY_MS)))).toBe(0);
  });

  it('refuses on replay a level out of range', () => {
    expect(() => stateOf([purchased('p1', t0, at(DAY_MS), 256)])).toThrow(AssertionError);
  });

  it('stores and reads a purchase through the codec; grants of older versions have none', () => {
    const event = purchased('p1', t0, at(30 * DAY_MS));
    const stored = {
      type: event.type,
      data: trafficEventCodec.encode(event),
      metadata: { schemaVersion: 2 },
    };
    expect(trafficEventCodec.parse(stored)).toEqual(event);
    const { subscription: _dropped, ...plain } = stored.data;
    const old = { type: 'QuotaGranted', data: plain, metadata: { schemaVersion: 1 } };
    expect(trafficEventCodec.parse(old).data).not.toHaveProperty('subscription');
    const damaged = { ...stored, data: { ...stored.data, subscription: { planId: 'pro' } } };
    expect(() => trafficEventCodec.parse(damaged)).toThrow(AssertionError);
  });

  it('keeps level, group and expiry in the snapshot', () => {
    const state = stateOf([purchased('p1', t0, at(30 * DAY_MS))]);
    const decoded = trafficSnapshotCodec.decode(trafficSnapshotCodec.encode(state));
    expect(trafficUserOf(decoded, 'alice')).toEqual(trafficUserOf(state, 'alice'));
  });
});
