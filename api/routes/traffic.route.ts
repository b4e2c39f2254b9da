import type { JSONSchemaType } from 'ajv';
import {
  effectiveLevelOf,
  trafficShardOf,
  trafficUserOf,
  trafficView,
  type TrafficCommand,
  type UsageRecord,
} from '../../domain/traffic/traffic.decider';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { assert } from '../../domain/assert';
import type { TrafficOutcome, TrafficRequest } from '../../domain/traffic/traffic-writer';
import type { StoredResponse } from '../../domain/ports/idempotency-store.port';
import { okEnvelope, sendOk, sendResponse } from '../envelope';
import { answerRecord, ledgerKeyOf, withPosition } from '../middleware/ledger-idempotency';
import type { RouteMiddleware } from '../middleware/api-state';
import { clientOf } from '../middleware/api-state';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams } from '../middleware/validate';
import { descriptionSchema, idSchema } from '../schemas/common.schema';
import { positionJson, type LedgerServices } from './ledger-services';
import { rejectionResponse, reportRejection } from './rejection';
import {
  groupedUsageOf,
  isParsedReport,
  readReportBytes,
  TRAFFIC_RECORDS_PER_REPORT_MAX,
  type ReportBody,
} from './traffic-report';
import { jsonBody } from '../middleware/body';

const bytesSchema = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
const reportSchema: JSONSchemaType<ReportBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['reportId', 'records'],
  properties: {
    reportId: idSchema,
    records: {
      type: 'array',
      minItems: 1,
      maxItems: TRAFFIC_RECORDS_PER_REPORT_MAX,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['userId', 'uploadBytes', 'downloadBytes'],
        properties: { userId: idSchema, uploadBytes: bytesSchema, downloadBytes: bytesSchema },
      },
    },
  },
};
const grantSchema: JSONSchemaType<{ grantId: string; quotaBytes: number; reason?: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['grantId', 'quotaBytes'],
  properties: {
    grantId: idSchema,
    quotaBytes: { ...bytesSchema, minimum: 1 },
    reason: { ...descriptionSchema, nullable: true },
  },
};
const resetSchema: JSONSchemaType<{ resetId: string; quotaBytes: number }> = {
  type: 'object',
  additionalProperties: false,
  required: ['resetId', 'quotaBytes'],
  properties: { resetId: idSchema, quotaBytes: bytesSchema },
};
const userParamsSchema: JSONSchemaType<{ userId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['userId'],
  properties: { userId: idSchema },
};

const idPattern = new RegExp(idSchema.pattern);

const isByteCountValue = (value: unknown): boolean =>
  typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

const isUsageRecord = (record: unknown): record is UsageRecord => {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return false;
  for (const key in record) {
    if (key !== 'userId' && key !== 'uploadBytes' && key !== 'downloadBytes') return false;
  }
  if (!('userId' in record && 'uploadBytes' in record && 'downloadBytes' in record)) return false;
  const { userId, uploadBytes, downloadBytes } = record;
  return (
    typeof userId === 'string' &&
    idPattern.test(userId) &&
    isByteCountValue(uploadBytes) &&
    isByteCountValue(downloadBytes)
  );
};

/**
 * What reportSchema accepts, in one tight pass over the records: ajv over 10,000 nested objects
 * costs more than the rest of the report. Anything this refuses goes to ajv, which names the
 * field (`body.records[12].uploadBytes must be integer`); it accepts nothing ajv would refuse.
 */
const isReportBody = (body: unknown): body is ReportBody => {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  if (Object.keys(body).length !== 2 || !('reportId' in body && 'records' in body)) return false;
  const { reportId, records } = body;
  if (typeof reportId !== 'string' || !idPattern.test(reportId) || !Array.isArray(records))
    return false;
  const list: readonly unknown[] = records;
  if (list.length < 1 || list.length > TRAFFIC_RECORDS_PER_REPORT_MAX) return false;
  for (const record of list) if (!isUsageRecord(record)) return false;
  return true;
};

type Answered = Extract<TrafficOutcome, { ok: true }>;

/** A report's answer in one shard (a shard only gets a command for users with usage). */
const usageAnswerOf = (outcome: TrafficOutcome) => {
  assert(outcome.ok, `traffic report refused: ${outcome.ok ? '' : outcome.rejection}`);
  const { answer } = outcome;
  assert(answer.kind === 'usage', `traffic report answered ${answer.kind}`);
  return answer;
};

/** A grant's or reset's user as the command left it. */
const userAnswerOf = ({ answer }: Answered) => {
  assert(answer.kind === 'user', `traffic: a user's command answered ${answer.kind}`);
  return answer.user;
};

type Ctx = Parameters<RouteMiddleware>[0];

/**
 * Runs one request through the traffic writer with the request's Idempotency-Key, whose record
 * commits with the usage, and answers with what `respond` makes of the outcomes (or the record).
 */
const executeTrafficRequest = async (
  ctx: Ctx,
  services: Pick<LedgerServices, 'traffic'>,
  request: Omit<TrafficRequest, 'idempotency'>,
  respond: (outcomes: readonly TrafficOutcome[]) => StoredResponse,
): Promise<void> => {
  const key = ledgerKeyOf(ctx);
  const reply = await services.traffic.execute({ ...request, idempotency: { ...key, respond } });
  if (reply.kind === 'replay') return answerRecord(ctx, reply.record, key.fingerprint);
  const response = reply.response ?? respond(reply.outcomes);
  sendResponse(ctx, withPosition(response, reply.position));
  const [only] = reply.outcomes;
  if (reply.outcomes.length === 1 && only !== undefined && !only.ok)
    reportRejection(ctx, only.rejection);
};

export const trafficRoutes =
  (services: LedgerServices): RouteRegistrar =>
  (kit: RouteKit) => {
    // A body readReportBytes read is checked already; any other goes through isReportBody, and
    // what that refuses through ajv, which names the record and field.
    const report = validateBody(reportSchema, {
      fastCheck: (body): body is ReportBody => isParsedReport(body) || isReportBody(body),
    });
    const grant = validateBody(grantSchema);
    const reset = validateBody(resetSchema);
    const params = validateParams(userParamsSchema);
    const admins = requireScope('traffic:admin');

    kit.router.post(
      '/traffic/reports',
      requireScope('traffic:write'),
      jsonBody({
        bytesMax: kit.limits.trafficBodyBytesMax,
        required: true,
        fastParse: readReportBytes,
      }),
      report,
      kit.ledgerIdempotency(),
      async (ctx) => {
        const body = report.read(ctx);
        const { reportId, records } = body;
        const nodeId = clientOf(ctx).clientId;
        const context = commandContext(ctx, services.nowMs());
        const { shards, overflowed } = groupedUsageOf(body);
        // Report ids are the node's own: scoping them keeps two nodes' report 7 apart.
        const scopedReportId = `${nodeId}:${reportId}`;
        const commands = shards.map(({ shardId, usages }) => ({
          shardId,
          command: {
            type: 'RecordUsage',
            data: { reportId: scopedReportId, nodeId, usages, now: context.now },
          } satisfies TrafficCommand,
          eventIdSeed: `${scopedReportId}:${shardId}`,
        }));
        const userCount = shards.reduce((count, { usages }) => count + usages.length, 0);
        await executeTrafficRequest(ctx, services, { commands, context }, (outcomes) => {
          const rejected = overflowed.map((userId) => ({ userId, code: 'usage_overflow' }));
          const exceededUserIds: string[] = [];
          for (const outcome of outcomes) {
            const answer = usageAnswerOf(outcome);
            for (const { userId, reason } of answer.refused)
              rejected.push({ userId, code: reason });
            for (const userId of answer.exceededUserIds) exceededUserIds.push(userId);
          }
          const data = {
            reportId,
            recordCount: records.length,
            userCount: overflowed.length + userCount,
            rejected,
            exceededUserIds,
            position: null,
          };
          return { status: 200, body: okEnvelope(data), headers: {} };
        });
      },
    );

    /** A grant or reset: one command on the user's shard. */
    const runOnUser = async (
      ctx: Ctx,
      userId: string,
      commandAt: (now: string) => TrafficCommand,
    ) => {
      const context = commandContext(ctx, services.nowMs());
      const command = commandAt(context.now);
      const commands = [{ shardId: trafficShardOf(userId), command, eventIdSeed: null }];
      await executeTrafficRequest(ctx, services, { commands, context }, ([outcome]) => {
        assert(outcome !== undefined, 'one command, one outcome');
        if (!outcome.ok) return rejectionResponse(outcome.rejection, outcome.detail, { userId });
        const data = {
          traffic: trafficView(userId, userAnswerOf(outcome)),
          position: null,
        };
        return { status: 200, body: okEnvelope(data), headers: {} };
      });
    };

    kit.router.post(
      '/traffic/users/:userId/grants',
      admins,
      params,
      kit.jsonBody(),
      grant,
      kit.ledgerIdempotency(),
      async (ctx) => {
        const { grantId, quotaBytes, reason = '' } = grant.read(ctx);
        const { userId } = params.read(ctx);
        await runOnUser(ctx, userId, (now) => ({
          type: 'GrantQuota',
          data: { userId, grantId, quotaBytes, reason, now },
        }));
      },
    );

    kit.router.post(
      '/traffic/users/:userId/resets',
      admins,
      params,
      kit.jsonBody(),
      reset,
      kit.ledgerIdempotency(),
      async (ctx) => {
        const { resetId, quotaBytes } = reset.read(ctx);
        const { userId } = params.read(ctx);
        await runOnUser(ctx, userId, (now) => ({
          type: 'ResetQuota',
          data: { userId, resetId, quotaBytes, now },
        }));
      },
    );

    kit.router.get('/traffic/users/:userId', requireScope('traffic:read'), params, async (ctx) => {
      const { userId } = params.read(ctx);
      const shard = await services.traffic.shard(trafficShardOf(userId));
      const user = trafficUserOf(shard.state, userId);
      sendOk(ctx, {
        // level is as bought; activeLevel is what counts now (0 once the plan has expired).
        traffic: {
          ...trafficView(userId, user),
          activeLevel: effectiveLevelOf(user, services.nowMs()),
        },
        position: positionJson(shard.position),
      });
    });
  };
