import { LRUCache } from 'lru-cache';
import {
  ipLimitOf,
  ipStandingOf,
  riskRefusalOf,
  type PurchaseAttempt,
  type RiskRefusal,
  type RiskRules,
  type VelocityLimit,
} from '../domain/risk/risk-rules';

/**
 * The counters the risk rules read: recent purchase attempts per buyer, IP and device (sliding
 * windows on the injected clock) and the amounts of each buyer's holds per UTC day. In memory
 * and bounded (`keyCountMax` keys per kind, least recently used out); a restart starts them
 * afresh. The rules are swapped at once by `replaceRules`.
 */
type RiskGuardLimits = { keyCountMax: number };

export type RiskGuard = {
  /** Counts the attempt and answers the first rule it breaks, or null. */
  check(attempt: PurchaseAttempt & { buyerId: string; deviceId: string | null }): {
    refusal: RiskRefusal;
    limit: number;
  } | null;
  /** A hold was created: its price counts towards the buyer's day. */
  recordHold(buyerId: string, currency: string, priceMinor: number): void;
  rules(): RiskRules;
  replaceRules(rules: RiskRules): void;
};

const DAY_MS = 24 * 3600 * 1000;

/** Timestamps of a key's latest attempts, at most the largest attemptsMax of its rules. */
const createWindows = (keyCountMax: number) => {
  const attempts = new LRUCache<string, number[]>({ max: keyCountMax });
  return {
    /** Attempts within `limit.windowMs` before nowMs (this one not counted), then counts it. */
    countAndAdd(key: string, limit: VelocityLimit | null, nowMs: number): number {
      const times = attempts.get(key) ?? [];
      const windowMs = limit?.windowMs ?? 0;
      const recent = times.filter((atMs) => atMs > nowMs - windowMs).length;
      times.push(nowMs);
      // Keeping the newest attemptsMax is enough to know whether attemptsMax fall in the window.
      const keep = limit?.attemptsMax ?? 0;
      if (times.length > keep) times.splice(0, times.length - keep);
      attempts.set(key, times);
      return recent;
    },
  };
};

export const createRiskGuard = (options: {
  rules: RiskRules;
  nowMs: () => number;
  limits: RiskGuardLimits;
}): RiskGuard => {
  let rules = options.rules;
  const buyers = createWindows(options.limits.keyCountMax);
  const ips = createWindows(options.limits.keyCountMax);
  const devices = createWindows(options.limits.keyCountMax);
  const days = new LRUCache<string, { day: number; amountMinor: number }>({
    max: options.limits.keyCountMax,
  });
  const dayKey = (buyerId: string, currency: string) => `${buyerId}\n${currency}`;
  const todayAmount = (buyerId: string, currency: string, day: number): number => {
    const entry = days.get(dayKey(buyerId, currency));
    return entry !== undefined && entry.day === day ? entry.amountMinor : 0;
  };

  return {
    check: (attempt) => {
      const nowMs = options.nowMs();
      const ipLimit = ipLimitOf(rules, ipStandingOf(rules, attempt.ip));
      const counts = {
        buyerAttempts: buyers.countAndAdd(attempt.buyerId, rules.buyerVelocity, nowMs),
        ipAttempts: ips.countAndAdd(attempt.ip, ipLimit, nowMs),
        deviceAttempts:
          attempt.deviceId === null
            ? null
            : devices.countAndAdd(attempt.deviceId, rules.deviceVelocity, nowMs),
        buyerTodayAmountMinor: todayAmount(
          attempt.buyerId,
          attempt.currency,
          Math.floor(nowMs / DAY_MS),
        ),
      };
      return riskRefusalOf(rules, attempt, counts);
    },
    recordHold: (buyerId, currency, priceMinor) => {
      const day = Math.floor(options.nowMs() / DAY_MS);
      const amountMinor = todayAmount(buyerId, currency, day) + priceMinor;
      days.set(dayKey(buyerId, currency), { day, amountMinor });
    },
    rules: () => rules,
    replaceRules: (next) => {
      rules = next;
    },
  };
};
