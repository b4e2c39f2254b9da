import { isCurrency, isPositiveAmountMinor } from '../money';
import { isUserLevel, USER_LEVEL_MAX } from '../node/node.model';

/** A plan of the catalogue (domain/plan/plan.decider.ts): its price and what it grants (traffic quota for a period). */
export type Plan = {
  planId: string;
  name: string;
  amountMinor: number;
  currency: string;
  quotaBytes: number;
  durationDays: number;
  /** The user level (class) a purchase gives until it expires; absent: 0. */
  level?: number;
  /** The node group a purchase puts the user in; absent: 'default'. */
  group?: string;
};

const PLAN_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const PLAN_DURATION_DAYS_MAX = 3660;

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
  if (
    !Number.isSafeInteger(plan.durationDays) ||
    plan.durationDays <= 0 ||
    plan.durationDays > PLAN_DURATION_DAYS_MAX
  ) {
    return `plan ${plan.planId}: durationDays must be 1-${PLAN_DURATION_DAYS_MAX}`;
  }
  if (plan.level !== undefined && !isUserLevel(plan.level))
    return `plan ${plan.planId}: level must be 0-${USER_LEVEL_MAX}`;
  if (plan.group !== undefined && !PLAN_ID_PATTERN.test(plan.group))
    return `plan ${plan.planId}: group must match ${PLAN_ID_PATTERN.source}`;
  return null;
};

/** The instant a plan bought at `purchasedAt` runs out. */
export const planExpiresAt = (plan: Pick<Plan, 'durationDays'>, purchasedAt: string): string =>
  new Date(Date.parse(purchasedAt) + plan.durationDays * 24 * 3600 * 1000).toISOString();

/** The saga that runs a purchase; the API starts it, the saga host drives it. */
export const PLAN_PURCHASE_SAGA = 'plan_purchase';

/** The purchase saga's steps, in order: the API records them when it starts the saga. */
export const PLAN_PURCHASE_STEPS = ['hold_funds', 'grant_quota', 'capture'];
