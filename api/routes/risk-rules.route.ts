import type { JSONSchemaType } from 'ajv';
import {
  RISK_RULES_ID,
  riskRulesAggregate,
  type RiskRules,
  type VelocityLimit,
} from '../../domain/risk/risk-rules';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateBody } from '../middleware/validate';
import { amountMinorSchema, currencySchema } from '../schemas/common.schema';
import type { SaleServices } from './items.route';

/** Bounds that keep the guard's memory bounded: timestamps kept per key ≤ attemptsMax. */
const ATTEMPTS_MAX = 1000;
const WINDOW_MS_MAX = 24 * 3600 * 1000;
const LIST_LENGTH_MAX = 10_000;

type VelocityBody = { windowMs: number; attemptsMax: number } | null;
type RiskRulesBody = {
  buyerVelocity?: VelocityBody;
  ipVelocity?: VelocityBody;
  deviceVelocity?: VelocityBody;
  greyIpVelocity?: VelocityBody;
  buyerDailyAmounts?: { currency: string; amountMinorMax: number }[];
  ipAllowList?: string[];
  ipDenyList?: string[];
  ipGreyList?: string[];
};

const velocitySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['windowMs', 'attemptsMax'],
  properties: {
    windowMs: { type: 'integer', minimum: 1, maximum: WINDOW_MS_MAX },
    attemptsMax: { type: 'integer', minimum: 1, maximum: ATTEMPTS_MAX },
  },
  nullable: true,
} as const;
const ipListSchema = {
  type: 'array',
  maxItems: LIST_LENGTH_MAX,
  uniqueItems: true,
  items: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }] },
  nullable: true,
} as const;

const rulesSchema: JSONSchemaType<RiskRulesBody> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    buyerVelocity: velocitySchema,
    ipVelocity: velocitySchema,
    deviceVelocity: velocitySchema,
    greyIpVelocity: velocitySchema,
    buyerDailyAmounts: {
      type: 'array',
      maxItems: 200,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['currency', 'amountMinorMax'],
        properties: { currency: currencySchema, amountMinorMax: amountMinorSchema },
      },
      nullable: true,
    },
    ipAllowList: ipListSchema,
    ipDenyList: ipListSchema,
    ipGreyList: ipListSchema,
  },
};

const velocity = (body: VelocityBody | undefined): VelocityLimit | null =>
  body === undefined || body === null
    ? null
    : { windowMs: body.windowMs, attemptsMax: body.attemptsMax };

/** The rules in their one canonical shape (key order fixed: equal rules are equal JSON). */
const rulesOf = (body: RiskRulesBody): RiskRules => ({
  buyerVelocity: velocity(body.buyerVelocity),
  ipVelocity: velocity(body.ipVelocity),
  deviceVelocity: velocity(body.deviceVelocity),
  greyIpVelocity: velocity(body.greyIpVelocity),
  buyerDailyAmounts: (body.buyerDailyAmounts ?? []).map(({ currency, amountMinorMax }) => ({
    currency,
    amountMinorMax,
  })),
  ipAllowList: body.ipAllowList ?? [],
  ipDenyList: body.ipDenyList ?? [],
  ipGreyList: body.ipGreyList ?? [],
});

/** The problem of a rule set that validates field by field but not as a whole, or null. */
const rulesProblem = (rules: RiskRules): { field: string; msg: string } | null => {
  const currencies = rules.buyerDailyAmounts.map((limit) => limit.currency);
  if (new Set(currencies).size !== currencies.length)
    return { field: 'buyerDailyAmounts', msg: 'one limit per currency' };
  const listed = [...rules.ipDenyList, ...rules.ipGreyList];
  const both = rules.ipAllowList.find((ip) => listed.includes(ip));
  if (both !== undefined)
    return { field: 'ipAllowList', msg: `${both} is also on the deny or grey list` };
  return null;
};

/**
 * GET /v1/risk-rules (admin, auditor) and PUT /v1/risk-rules (admin): the purchase risk rules,
 * replaced whole, stored as an event (stream riskrules-purchase) and applied at once.
 */
export const riskRuleRoutes =
  (services: SaleServices): RouteRegistrar =>
  (kit: RouteKit) => {
    // null turns a velocity rule off, as GET shows it: a rule set read can be written back.
    const body = validateBody(rulesSchema, {
      nullAllowed: ['buyerVelocity', 'ipVelocity', 'deviceVelocity', 'greyIpVelocity'],
    });

    kit.router.get('/risk-rules', requireScope('risk:read'), async (ctx) => {
      const { state, position } = await services.runtime.read(riskRulesAggregate, RISK_RULES_ID);
      sendOk(ctx, {
        rules: state.rules,
        replacedAt: state.replacedAt,
        position: position === null ? null : position.toString(),
      });
    });

    kit.router.put('/risk-rules', requireScope('risk:write'), kit.jsonBody(), body, async (ctx) => {
      const rules = rulesOf(body.read(ctx));
      const problem = rulesProblem(rules);
      if (problem !== null)
        return sendError(ctx, 'invalid_request', {
          msg: problem.msg,
          data: { field: problem.field },
        });
      const context = commandContext(ctx, services.nowMs());
      const outcome = await services.runtime.execute(
        riskRulesAggregate,
        RISK_RULES_ID,
        { type: 'ReplaceRiskRules', data: { rules, now: context.now } },
        context,
      );
      services.risk.replaceRules(outcome.state.rules);
      services.audit?.report('admin_action', context.actor.clientId, {
        action: 'risk_rules_replaced',
        changed: outcome.ok && outcome.eventCount > 0,
      });
      sendOk(ctx, {
        rules: outcome.state.rules,
        replacedAt: outcome.state.replacedAt,
        position: outcome.position === null ? null : outcome.position.toString(),
      });
    });
  };
