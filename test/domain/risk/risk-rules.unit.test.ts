import { buyerDayAggregate, buyerDayIdOf } from '../../../domain/risk/buyer-day';
import { riskAttemptsIdsSince } from '../../../domain/risk/risk-attempts';
import {
  dailyLimitOf,
  NO_RISK_RULES,
  riskRefusalOf,
  riskRulesAggregate,
  type RiskCounts,
  type RiskRules,
} from '../../../domain/risk/risk-rules';
import { createRiskGuard } from '../../../api/risk-guard';

const counts: RiskCounts = {
  buyerAttempts: 0,
  ipAttempts: 0,
  deviceAttempts: 0,
};
const attempt = { ip: '10.0.0.1' };
const window = (attemptsMax: number) => ({ windowMs: 60_000, attemptsMax });
const rules = (overrides: Partial<RiskRules>): RiskRules => ({ ...NO_RISK_RULES, ...overrides });

describe('riskRefusalOf: each rule', () => {
  it('lets everything through without rules', () => {
    expect(riskRefusalOf(NO_RISK_RULES, attempt, { ...counts, buyerAttempts: 1e6 })).toBeNull();
  });

  it('refuses an IP on the deny list, unless it is also allowed', () => {
    expect(riskRefusalOf(rules({ ipDenyList: ['10.0.0.1'] }), attempt, counts)).toEqual({
      refusal: 'risk_ip_denied',
      limit: 0,
    });
    const both = rules({ ipDenyList: ['10.0.0.1'], ipAllowList: ['10.0.0.1'] });
    expect(riskRefusalOf(both, attempt, counts)).toBeNull();
  });

  it.each([
    ['buyerVelocity', 'buyerAttempts', 'risk_buyer_velocity'],
    ['ipVelocity', 'ipAttempts', 'risk_ip_velocity'],
    ['deviceVelocity', 'deviceAttempts', 'risk_device_velocity'],
  ] as const)('%s: refuses at attemptsMax earlier attempts, not one below', (rule, count, code) => {
    const limited = rules({ [rule]: window(3) });
    expect(riskRefusalOf(limited, attempt, { ...counts, [count]: 2 })).toBeNull();
    expect(riskRefusalOf(limited, attempt, { ...counts, [count]: 3 })).toEqual({
      refusal: code,
      limit: 3,
    });
  });

  it('applies the grey limit (not the plain one) to a grey IP, and no IP limit to an allowed IP', () => {
    const limited = rules({
      ipVelocity: window(10),
      greyIpVelocity: window(2),
      ipGreyList: ['10.0.0.1'],
    });
    expect(riskRefusalOf(limited, attempt, { ...counts, ipAttempts: 2 })).toEqual({
      refusal: 'risk_grey_ip_velocity',
      limit: 2,
    });
    expect(
      riskRefusalOf(limited, { ...attempt, ip: '10.0.0.2' }, { ...counts, ipAttempts: 2 }),
    ).toBeNull();
    const allowed = rules({ ipVelocity: window(1), ipAllowList: ['10.0.0.1'] });
    expect(riskRefusalOf(allowed, attempt, { ...counts, ipAttempts: 50 })).toBeNull();
  });

  it('leaves the daily amount to the buyer day', () => {
    const limited = rules({ buyerDailyAmounts: [{ currency: 'EUR', amountMinorMax: 1 }] });
    expect(riskRefusalOf(limited, attempt, counts)).toBeNull();
    expect(dailyLimitOf(limited, 'EUR')).toEqual({ currency: 'EUR', amountMinorMax: 1 });
    expect(dailyLimitOf(limited, 'USD')).toBeNull();
  });
});

describe('the buyer day: the daily amount, one decision per buyer and UTC day', () => {
  const reserve = (purchaseId: string, amountMinor: number, currency = 'EUR') => ({
    type: 'ReserveDailyAmount' as const,
    data: { purchaseId, currency, amountMinor, amountMinorMax: 1000 },
  });
  const given = (...commands: ReturnType<typeof reserve>[]) =>
    commands.reduce((state, command) => {
      const decision = buyerDayAggregate.decide(command, state);
      if (!decision.ok) throw new Error(decision.rejection);
      return decision.events.reduce(buyerDayAggregate.evolve, state);
    }, buyerDayAggregate.initialState);

  it('reserves up to the limit exactly, refuses one minor unit above it, per currency', () => {
    const state = given(reserve('p1', 600));
    expect(buyerDayAggregate.decide(reserve('p2', 400), state)).toMatchObject({ ok: true });
    expect(buyerDayAggregate.decide(reserve('p2', 401), state)).toEqual({
      ok: false,
      rejection: 'risk_buyer_daily_amount',
      detail: { limit: 1000 },
    });
    expect(buyerDayAggregate.decide(reserve('p2', 1000, 'USD'), state)).toMatchObject({
      ok: true,
    });
  });

  it('counts the same purchase once, and a release frees its amount', () => {
    const state = given(reserve('p1', 900));
    expect(buyerDayAggregate.decide(reserve('p1', 900), state)).toEqual({ ok: true, events: [] });
    const release = { type: 'ReleaseDailyAmount' as const, data: { purchaseId: 'p1' } };
    const released = buyerDayAggregate.decide(release, state);
    expect(released).toEqual({
      ok: true,
      events: [{ type: 'DailyAmountReleased', data: { purchaseId: 'p1' } }],
    });
    const after = released.ok ? released.events.reduce(buyerDayAggregate.evolve, state) : state;
    expect(buyerDayAggregate.decide(reserve('p2', 1000), after)).toMatchObject({ ok: true });
    expect(buyerDayAggregate.decide(release, after)).toEqual({ ok: true, events: [] });
  });

  it('keys a buyer day by the UTC date of the instant', () => {
    expect(buyerDayIdOf('b1', '2026-12-06T23:59:59.999Z')).toBe('b1.2026-12-06');
    expect(buyerDayIdOf('b1', '2026-12-07T00:00:00.000Z')).toBe('b1.2026-12-07');
  });
});

describe('the risk guard: windows on the injected clock', () => {
  it('counts attempts in a sliding window and forgets them once the window has passed', () => {
    let nowMs = 1_000_000;
    const guard = createRiskGuard({
      rules: rules({ buyerVelocity: { windowMs: 10_000, attemptsMax: 2 } }),
      nowMs: () => nowMs,
      limits: { keyCountMax: 100 },
    });
    const buy = () => guard.check({ ...attempt, buyerId: 'b1', deviceId: null })?.refusal ?? null;
    expect([buy(), buy(), buy()]).toEqual([null, null, 'risk_buyer_velocity']);
    nowMs += 9_999;
    expect(buy()).toBe('risk_buyer_velocity');
    nowMs += 10_001;
    expect(buy()).toBeNull();
    expect(guard.check({ ...attempt, buyerId: 'b2', deviceId: null })).toBeNull();
  });

  it('hands every counted attempt to the journal; a new guard fed them refuses alike', () => {
    let nowMs = 1_000_000;
    const limited = rules({ buyerVelocity: { windowMs: 10_000, attemptsMax: 2 } });
    const options = { rules: limited, nowMs: () => nowMs, limits: { keyCountMax: 100 } };
    const before = createRiskGuard(options);
    const buyer = { ...attempt, buyerId: 'b1', deviceId: 'd1' };
    before.check(buyer);
    nowMs += 1_000;
    before.check(buyer);
    const journaled = before.takeAttempts();
    expect(journaled).toEqual([
      { buyerId: 'b1', ip: '10.0.0.1', deviceId: 'd1', atMs: 1_000_000 },
      { buyerId: 'b1', ip: '10.0.0.1', deviceId: 'd1', atMs: 1_001_000 },
    ]);
    expect(before.takeAttempts()).toEqual([]);
    const restarted = createRiskGuard(options);
    journaled.forEach((recorded) => restarted.replay(recorded));
    expect(restarted.check(buyer)?.refusal).toBe('risk_buyer_velocity');
    expect(createRiskGuard(options).check(buyer)).toBeNull();
  });

  it('names the journal hours a look-back covers', () => {
    const nowMs = Date.parse('2026-12-06T10:20:00Z');
    expect(riskAttemptsIdsSince(nowMs, 2 * 3600 * 1000)).toEqual([
      '2026-12-06T08',
      '2026-12-06T09',
      '2026-12-06T10',
    ]);
    expect(riskAttemptsIdsSince(nowMs, 60_000)).toEqual(['2026-12-06T10']);
  });

  it('takes replaced rules at once', () => {
    const guard = createRiskGuard({
      rules: NO_RISK_RULES,
      nowMs: () => 0,
      limits: { keyCountMax: 10 },
    });
    const check = () => guard.check({ ...attempt, buyerId: 'b', deviceId: null })?.refusal ?? null;
    expect(check()).toBeNull();
    guard.replaceRules(rules({ ipDenyList: ['10.0.0.1'] }));
    expect(check()).toBe('risk_ip_denied');
  });
});

describe('the rules stream', () => {
  it('records a replacement, and nothing for the same rules again', () => {
    const next = rules({ ipDenyList: ['10.0.0.9'] });
    const decision = riskRulesAggregate.decide(
      { type: 'ReplaceRiskRules', data: { rules: next, now: 't' } },
      riskRulesAggregate.initialState,
    );
    expect(decision).toEqual({
      ok: true,
      events: [{ type: 'RiskRulesReplaced', data: { rules: next, replacedAt: 't' } }],
    });
    const state = { rules: next, replacedAt: 't' };
    expect(
      riskRulesAggregate.decide(
        { type: 'ReplaceRiskRules', data: { rules: next, now: 'u' } },
        state,
      ),
    ).toEqual({ ok: true, events: [] });
  });
});
