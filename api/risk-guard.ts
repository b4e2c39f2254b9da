import { LRUCache } from 'lru-cache';
import type { RecordedAttempt } from '../domain/risk/risk-attempts';
import {
  ipLimitOf,
  ipStandingOf,
  riskRefusalOf,
  type PurchaseAttempt,
  type RiskCounts,
  type RiskRefusal,
  type RiskRules,
  type VelocityLimit,
} from '../domain/risk/risk-rules';

/**
 * The counters the velocity rules read: recent purchase attempts per buyer, IP and device (sliding
 * windows on the injected clock). In memory and bounded (`keyCountMax` keys per kind, least
 * recently used out). Every counted attempt is also handed to the journal (`takeAttempts`, see
 * api/risk-journal.ts), which records it and replays it into a restarted service. The daily amount
 * is not counted here: the buyer's day decides it (domain/risk/buyer-day.ts). The rules are
 * swapped at once by `replaceRules`.
 */
type RiskGuardLimits = { keyCountMax: number };

type Attempt = PurchaseAttempt & { buyerId: string; deviceId: string | null };

export type RiskGuard = {
  /** Counts the attempt and answers the first rule it breaks, or null. */
  check(attempt: Attempt): { refusal: RiskRefusal; limit: number } | null;
  /** Counts an attempt recorded before this service started (nothing is decided). */
  replay(attempt: RecordedAttempt): void;
  /** The attempts counted since the last call, oldest first (at most keyCountMax kept). */
  takeAttempts(): RecordedAttempt[];
  rules(): RiskRules;
  replaceRules(rules: RiskRules): void;
};

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
  let unjournaled: RecordedAttempt[] = [];

  const count = (attempt: RecordedAttempt): RiskCounts => {
    const ipLimit = ipLimitOf(rules, ipStandingOf(rules, attempt.ip));
    return {
      buyerAttempts: buyers.countAndAdd(attempt.buyerId, rules.buyerVelocity, attempt.atMs),
      ipAttempts: ips.countAndAdd(attempt.ip, ipLimit, attempt.atMs),
      deviceAttempts:
        attempt.deviceId === null
          ? null
          : devices.countAndAdd(attempt.deviceId, rules.deviceVelocity, attempt.atMs),
    };
  };

  return {
    check: (attempt) => {
      const recorded = {
        buyerId: attempt.buyerId,
        ip: attempt.ip,
        deviceId: attempt.deviceId,
        atMs: options.nowMs(),
      };
      if (unjournaled.length >= options.limits.keyCountMax) unjournaled.shift();
      unjournaled.push(recorded);
      return riskRefusalOf(rules, attempt, count(recorded));
    },
    replay: (attempt) => void count(attempt),
    takeAttempts: () => {
      const taken = unjournaled;
      unjournaled = [];
      return taken;
    },
    rules: () => rules,
    replaceRules: (next) => {
      rules = next;
    },
  };
};
