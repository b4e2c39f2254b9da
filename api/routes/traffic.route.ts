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
import { addWithinSafeRange } from '../../domain/money';
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

/** A node reports at most this many usage records per request. */
const TRAFFIC_RECORDS_PER_REPORT_MAX = 10_000;

const bytesSchema = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
type ReportBody = { reportId: string; records: UsageRecord[] };
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

/**
 * Sums the records of each user (a node may list a user twice), drops users without usage, and
 * groups them by shard: one report is one command per shard it touches. A user whose records
 * add up past the safe-integer range is refused here, as the shard would refuse the total.
 */
const usageByShard = (
  records: readonly UsageRecord[],
): { shards: Map<string, UsageRecord[]>; overflowed: string[] } => {
  const totals = new Map<string, UsageRecord | 'overflow'>();
  for (const { userId, uploadBytes, downloadBytes } of records) {
    const current = totals.get(userId) ?? { userId, uploadBytes: 0, downloadBytes: 0 };
    if (current === 'overflow') continue;
    const upload = addWithinSafeRange(current.uploadBytes, uploadBytes);
    const download = addWithinSafeRange(current.downloadBytes, downloadBytes);
    const summed =
      upload === null || download === null
        ? ('overflow' as const)
        : { userId, uploadBytes: upload, downloadBytes: download };
    totals.set(userId, summed);
  }
  const shards = new Map<string, UsageRecord[]>();
  const overflowed: string[] = [];
  for (const [userId, usage] of totals) {
    if (usage === 'overflow') {
      overflowed.push(userId);
      continue;
    }
    if (usage.uploadBytes + usage.downloadBytes === 0) continue;
    const shardId = trafficShardOf(userId);
    const shard = shards.get(shardId);
    if (shard === undefined) shards.set(shardId, [usage]);
    else shard.push(usage);
  }
  return { shards, overflowed };
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
    const report = validateBody(reportSchema);
    const grant = validateBody(grantSchema);
    const reset = validateBody(resetSchema);
    const params = validateParams(userParamsSchema);
    const admins = requireScope('traffic:admin');

    kit.router.post(
      '/traffic/reports',
      requireScope('traffic:write'),
      kit.jsonBody({ bytesMax: kit.limits.trafficBodyBytesMax }),
      report,
      kit.ledgerIdempotency(),
      async (ctx) => {
        const { reportId, records } = report.read(ctx);
        const nodeId = clientOf(ctx).clientId;
        const context = commandContext(ctx, services.nowMs());
        const grouped = usageByShard(records);
        const shards = [...grouped.shards];
        // Report ids are the node's own: scoping them keeps two nodes' report 7 apart.
        const scopedReportId = `${nodeId}:${reportId}`;
        const commands = shards.map(([shardId, usages]) => ({
          shardId,
          command: {
            type: 'RecordUsage',
            data: { reportId: scopedReportId, nodeId, usages, now: context.now },
          } satisfies TrafficCommand,
          eventIdSeed: `${scopedReportId}:${shardId}`,
        }));
        const userCount =
          grouped.overflowed.length +
          shards.reduce((count, [, usages]) => count + usages.length, 0);
        await executeTrafficRequest(ctx, services, { commands, context }, (outcomes) => {
          const rejected = grouped.overflowed.map((userId) => ({ userId, code: 'usage_overflow' }));
          const exceededUserIds: string[] = [];
          outcomes.forEach((outcome, index) => {
            // Never empty: a shard only gets a command for users with usage.
            assert(outcome.ok, `traffic report refused: ${outcome.ok ? '' : outcome.rejection}`);
            const refused = outcome.state.recentReports.get(scopedReportId) ?? [];
            rejected.push(...refused.map(({ userId, reason }) => ({ userId, code: reason })));
            for (const { userId } of shards[index]?.[1] ?? []) {
              if (trafficUserOf(outcome.state, userId).exceeded) exceededUserIds.push(userId);
            }
          });
          const data = {
            reportId,
            recordCount: records.length,
            userCount,
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
          traffic: trafficView(userId, trafficUserOf(outcome.state, userId)),
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
