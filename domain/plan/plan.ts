import { assert } from '../assert';
import { isCurrency, isPositiveAmountMinor } from '../money';
import { isUserLevel, USER_LEVEL_MAX } from '../node/node.model';

/** A plan of the catalogue (domain/plan/plan.decider.ts): its price and what it grants (traffic quota for a period). */
export type Plan = {
  planId: string;
  name: string;
  amountMinor: number;
  currency: string;
  quotaBytes: number;
  /** How long a purchase runs, in whole days; exactly one of durationDays and durationSeconds. */
  durationDays?: number;
  /** How long a purchase runs, in seconds (short trial passes); exclusive with durationDays. */
  durationSeconds?: number;
  /** The user level (class) a purchase gives until it expires; absent: 0. */
  level?: number;
  /** The node group a purchase puts the user in; absent: 'default'. */
  group?: string;
};

const PLAN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const PLAN_DURATION_DAYS_MAX = 3660;
const DAY_SECONDS = 24 * 3600;
export const PLAN_DURATION_SECONDS_MAX = PLAN_DURATION_DAYS_MAX * DAY_SECONDS;

const isCountUpTo = (value: number | undefined, max: number): boolean =>
  value !== undefined && Number.isSafeInteger(value) && value > 0 && value <= max;

/** Why a plan's duration is unusable (not exactly one of the two fields, or out of range). */
const durationProblem = (plan: Plan): string | null => {
  const { planId, durationDays, durationSeconds } = plan;
  if (durationDays !== undefined && durationSeconds !== undefined)
    return `plan ${planId}: durationDays and durationSeconds exclude each other`;
  if (durationDays === undefined && durationSeconds === undefined)
    return `plan ${planId}: durationDays (or durationSeconds) is required`;
  if (durationSeconds !== undefined)
    return isCountUpTo(durationSeconds, PLAN_DURATION_SECONDS_MAX)
      ? null
      : `plan ${planId}: durationSeconds must be 1-${PLAN_DURATION_SECONDS_MAX}`;
  return isCountUpTo(durationDays, PLAN_DURATION_DAYS_MAX)
    ? null
    : `plan ${planId}: durationDays must be 1-${PLAN_DURATION_DAYS_MAX}`;
};

/** Why a plan is unusable, or null when it is fine (PLANS_FILE at startup; the decider asserts it). */
export const planProblem = (plan: Plan): string | null => {
  if (!PLAN_ID_PATTERN.test(plan.planId))
    return `planId '${plan.planId}' must match ${PLAN_ID_PATTERN.source}`;
  if (plan.name.length === 0) return `plan ${plan.planId}: name is empty`;
  if (!isPositiveAmountMinor(plan.amountMinor))
    return `plan ${plan.planId}: amountMinor must be a positive safe integer`;
  if (!isCurrency(plan.currency)) return `plan ${plan.planId}: unknown currency ${plan.currency}`;
  if (!Number.isSafeInteger(plan.quotaBytes) || plan.quotaBytes <= 0)
    return `plan ${plan.planId}: quotaBytes must be positive`;
  const duration = durationProblem(plan);
  if (duration !== null) return duration;
  if (plan.level !== undefined && !isUserLevel(plan.level))
    return `plan ${plan.planId}: level must be 0-${USER_LEVEL_MAX}`;
  if (plan.group !== undefined && !PLAN_ID_PATTERN.test(plan.group))
    return `plan ${plan.planId}: group must match ${PLAN_ID_PATTERN.source}`;
  return null;
};

/** How long a purchase of a valid plan runs, in seconds, whichever field the plan uses. */
export const planDurationSeconds = (
  plan: Readonly<Pick<Plan, 'durationDays' | 'durationSeconds'>>,
): number => {
  const seconds = plan.durationSeconds ?? (plan.durationDays ?? 0) * DAY_SECONDS;
  assert(isCountUpTo(seconds, PLAN_DURATION_SECONDS_MAX), 'planDurationSeconds: a valid plan');
  return seconds;
};

/** The plan's duration field as it is (a purchase copies it into its saga's input). */
export const planDurationField = (
  plan: Readonly<Pick<Plan, 'durationDays' | 'durationSeconds'>>,
): { durationDays: number } | { durationSeconds: number } =>
  plan.durationSeconds === undefined
    ? { durationDays: planDurationSeconds(plan) / DAY_SECONDS }
    : { durationSeconds: planDurationSeconds(plan) };

/** The instant a plan bought at `purchasedAt` runs out. */
export const planExpiresAt = (durationSeconds: number, purchasedAt: string): string =>
  new Date(Date.parse(purchasedAt) + durationSeconds * 1000).toISOString();

/** The saga that runs a purchase; the API starts it, the saga host drives it. */
export const PLAN_PURCHASE_SAGA = 'plan_purchase';

/** The purchase saga's steps, in order: the API records them when it starts the saga. */
export const PLAN_PURCHASE_STEPS = ['hold_funds', 'grant_quota', 'capture'];
