import { versionedEventCodec, type Aggregate } from '../aggregate';
import { assert, AssertionError } from '../assert';
import { accept, type Decision } from '../decision';
import {
  arrayField,
  countField,
  jsonObject,
  nullableStringField,
  oneOfField,
  stringArrayField,
  stringField,
} from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';

/**
 * Risk rules for purchases: velocity limits per buyer, per IP and per device, a lower per-IP
 * limit for grey-listed IPs, a deny list, an allow list (exempt from the IP limits), and an
 * amount limit per buyer per UTC day and currency. The rules are one document, replaced whole by
 * an admin (stream `riskrules-purchase`), and take effect at once without a restart.
 */
export type VelocityLimit = { windowMs: number; attemptsMax: number };
export type DailyAmountLimit = { currency: string; amountMinorMax: number };

export type RiskRules = {
  buyerVelocity: VelocityLimit | null;
  ipVelocity: VelocityLimit | null;
  deviceVelocity: VelocityLimit | null;
  /** The per-IP limit of grey-listed IPs (instead of ipVelocity). */
  greyIpVelocity: VelocityLimit | null;
  buyerDailyAmounts: DailyAmountLimit[];
  ipAllowList: string[];
  ipDenyList: string[];
  ipGreyList: string[];
};

/** Before an admin sets any: nothing is limited. */
export const NO_RISK_RULES: RiskRules = {
  buyerVelocity: null,
  ipVelocity: null,
  deviceVelocity: null,
  greyIpVelocity: null,
  buyerDailyAmounts: [],
  ipAllowList: [],
  ipDenyList: [],
  ipGreyList: [],
};

/** Each refusal has its own 7xxxx code (api/risk-error-codes.ts). */
export const riskRefusals = [
  'risk_ip_denied',
  'risk_buyer_velocity',
  'risk_ip_velocity',
  'risk_grey_ip_velocity',
  'risk_device_velocity',
  'risk_buyer_daily_amount',
] as const;
export type RiskRefusal = (typeof riskRefusals)[number];

/** How many attempts each key made in each rule's window, this one not counted. */
export type RiskCounts = {
  buyerAttempts: number;
  ipAttempts: number;
  deviceAttempts: number | null;
};

export type PurchaseAttempt = { ip: string };

type IpStanding = 'allowed' | 'denied' | 'grey' | 'plain';

/** The allow list wins over the deny and grey lists: an explicit trust. */
export const ipStandingOf = (rules: RiskRules, ip: string): IpStanding => {
  if (rules.ipAllowList.includes(ip)) return 'allowed';
  if (rules.ipDenyList.includes(ip)) return 'denied';
  if (rules.ipGreyList.includes(ip)) return 'grey';
  return 'plain';
};

/** The per-IP limit that applies to an IP of that standing (null: none). */
export const ipLimitOf = (rules: RiskRules, standing: IpStanding): VelocityLimit | null => {
  if (standing === 'allowed' || standing === 'denied') return null;
  return standing === 'grey' ? rules.greyIpVelocity : rules.ipVelocity;
};

const over = (limit: VelocityLimit | null, attempts: number | null): boolean =>
  limit !== null && attempts !== null && attempts >= limit.attemptsMax;

/**
 * The first velocity or IP rule the attempt breaks, or null. Pure: the counts come in. The daily
 * amount is decided apart, by the buyer's day (domain/risk/buyer-day.ts), once these pass.
 */
export const riskRefusalOf = (
  rules: RiskRules,
  attempt: PurchaseAttempt,
  counts: RiskCounts,
): { refusal: RiskRefusal; limit: number } | null => {
  const standing = ipStandingOf(rules, attempt.ip);
  if (standing === 'denied') return { refusal: 'risk_ip_denied', limit: 0 };
  const ipLimit = ipLimitOf(rules, standing);
  if (over(ipLimit, counts.ipAttempts)) {
    assert(ipLimit !== null, 'over() implies a limit');
    const refusal = standing === 'grey' ? 'risk_grey_ip_velocity' : 'risk_ip_velocity';
    return { refusal, limit: ipLimit.attemptsMax };
  }
  if (over(rules.deviceVelocity, counts.deviceAttempts))
    return { refusal: 'risk_device_velocity', limit: rules.deviceVelocity?.attemptsMax ?? 0 };
  if (over(rules.buyerVelocity, counts.buyerAttempts))
    return { refusal: 'risk_buyer_velocity', limit: rules.buyerVelocity?.attemptsMax ?? 0 };
  return null;
};

/** The daily amount limit of a buyer in that currency, or null. */
export const dailyLimitOf = (rules: RiskRules, currency: string): DailyAmountLimit | null =>
  rules.buyerDailyAmounts.find((limit) => limit.currency === currency) ?? null;

/** The rules' own stream: one document, replaced whole. */
type RiskRulesCommand = {
  type: 'ReplaceRiskRules';
  data: { rules: RiskRules; now: string };
};
type RiskRulesEvent = {
  type: 'RiskRulesReplaced';
  data: { rules: RiskRules; replacedAt: string };
};
type RiskRulesState = { rules: RiskRules; replacedAt: string | null };

const velocityOf = (rules: JsonObject, name: string): VelocityLimit | null => {
  if (rules[name] === null) return null;
  const limit = jsonObject(rules[name], name);
  return { windowMs: countField(limit, 'windowMs'), attemptsMax: countField(limit, 'attemptsMax') };
};

const rulesOf = (data: JsonObject): RiskRules => {
  const rules = jsonObject(data['rules'], 'rules');
  return {
    buyerVelocity: velocityOf(rules, 'buyerVelocity'),
    ipVelocity: velocityOf(rules, 'ipVelocity'),
    deviceVelocity: velocityOf(rules, 'deviceVelocity'),
    greyIpVelocity: velocityOf(rules, 'greyIpVelocity'),
    buyerDailyAmounts: arrayField(rules, 'buyerDailyAmounts').map((value) => {
      const limit = jsonObject(value, 'buyerDailyAmounts');
      return {
        currency: stringField(limit, 'currency'),
        amountMinorMax: countField(limit, 'amountMinorMax'),
      };
    }),
    ipAllowList: stringArrayField(rules, 'ipAllowList'),
    ipDenyList: stringArrayField(rules, 'ipDenyList'),
    ipGreyList: stringArrayField(rules, 'ipGreyList'),
  };
};

/** The rules' events as stored: version 1, every field checked on read. */
const riskRulesEventCodec = versionedEventCodec<RiskRulesEvent>({
  upcasters: [],
  encode: (event) => event.data,
  parse: (type, data) => {
    if (type !== 'RiskRulesReplaced')
      throw new AssertionError(`riskrules: unknown event type ${type}`);
    return { type, data: { rules: rulesOf(data), replacedAt: stringField(data, 'replacedAt') } };
  },
});

export const RISK_RULES_ID = 'purchase';

export const riskRulesAggregate: Aggregate<
  RiskRulesCommand,
  RiskRulesEvent,
  RiskRulesState,
  never
> = {
  category: 'riskrules',
  initialState: { rules: NO_RISK_RULES, replacedAt: null },
  decide: (command, state): Decision<RiskRulesEvent, never> =>
    // The same rules again change nothing (a retried PUT); JSON order is the schema's order.
    JSON.stringify(command.data.rules) === JSON.stringify(state.rules)
      ? accept()
      : accept({
          type: 'RiskRulesReplaced',
          data: { rules: command.data.rules, replacedAt: command.data.now },
        }),
  evolve: (_state, event) => ({ rules: event.data.rules, replacedAt: event.data.replacedAt }),
  eventCodec: riskRulesEventCodec,
};

/**
 * The audit record of risk refusals: stream `riskrefusals-<buyerId>`, one RiskRefused event per
 * refused attempt, written before the refusal is answered (GET /v1/audit/events?stream= exports
 * it; the audit trail lists it).
 */
type RiskRefusalCommand = {
  type: 'RecordRiskRefusal';
  data: {
    refusal: RiskRefusal;
    code: number;
    limit: number;
    itemId: string;
    buyerId: string;
    ip: string;
    deviceId: string | null;
    now: string;
  };
};
type RiskRefusalEvent = {
  type: 'RiskRefused';
  data: Omit<RiskRefusalCommand['data'], 'now'> & { refusedAt: string };
};
type RiskRefusalState = { refusalCount: number };

/** The refusals as stored: version 1, every field checked on read. */
const riskRefusalEventCodec = versionedEventCodec<RiskRefusalEvent>({
  upcasters: [],
  encode: (event) => event.data,
  parse: (type, data) => {
    if (type !== 'RiskRefused')
      throw new AssertionError(`riskrefusals: unknown event type ${type}`);
    return {
      type,
      data: {
        refusal: oneOfField(data, 'refusal', riskRefusals),
        code: countField(data, 'code'),
        limit: countField(data, 'limit'),
        itemId: stringField(data, 'itemId'),
        buyerId: stringField(data, 'buyerId'),
        ip: stringField(data, 'ip'),
        deviceId: nullableStringField(data, 'deviceId'),
        refusedAt: stringField(data, 'refusedAt'),
      },
    };
  },
});

export const riskRefusalAggregate: Aggregate<
  RiskRefusalCommand,
  RiskRefusalEvent,
  RiskRefusalState,
  never
> = {
  category: 'riskrefusals',
  initialState: { refusalCount: 0 },
  decide: (command) => {
    const { now, ...refusal } = command.data;
    return accept({ type: 'RiskRefused', data: { ...refusal, refusedAt: now } });
  },
  evolve: (state) => ({ refusalCount: state.refusalCount + 1 }),
  eventCodec: riskRefusalEventCodec,
  snapshotCodec: {
    schemaVersion: 1,
    encode: (state) => state.refusalCount,
    decode: (saved) => {
      assert(typeof saved === 'number' && Number.isSafeInteger(saved), 'refusal count');
      return { refusalCount: saved };
    },
  },
};
