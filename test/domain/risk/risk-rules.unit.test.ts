import {
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
  buyerTodayAmountMinor: 0,
};
const attempt = { ip: '10.0.0.1', priceMinor: 500, currency: 'EUR' };
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

  it('refuses a purchase that would take the buyer over the daily amount in its currency', () => {
    const limited = rules({ buyerDailyAmounts: [{ currency: 'EUR', amountMinorMax: 1000 }] });
    expect(riskRefusalOf(limited, attempt, { ...counts, buyerTodayAmountMinor: 500 })).toBeNull();
    expect(riskRefusalOf(limited, attempt, { ...counts, buyerTodayAmountMinor: 501 })).toEqual({
      refusal: 'risk_buyer_daily_amount',
      limit: 1000,
    });
    expect(
      riskRefusalOf(
        limited,
        { ...attempt, currency: 'USD' },
        { ...counts, buyerTodayAmountMinor: 9e9 },
      ),
    ).toBeNull();
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

  it('adds holds to the buyer day, which starts afresh the next UTC day', () => {
    let nowMs = Date.parse('2026-12-06T23:59:00Z');
    const guard = createRiskGuard({
      rules: rules({ buyerDailyAmounts: [{ currency: 'EUR', amountMinorMax: 900 }] }),
      nowMs: () => nowMs,
      limits: { keyCountMax: 100 },
    });
    const buy = () => guard.check({ ...attempt, buyerId: 'b1', deviceId: null })?.refusal ?? null;
    expect(buy()).toBeNull();
    guard.recordHold('b1', 'EUR', 500);
    expect(buy()).toBe('risk_buyer_daily_amount');
    nowMs = Date.parse('2026-12-07T00:00:01Z');
    expect(buy()).toBeNull();
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
