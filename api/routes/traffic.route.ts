import type { JSONSchemaType } from 'ajv';
import {
  trafficAggregate,
  trafficView,
  type TrafficCommand,
} from '../../domain/traffic/traffic.decider';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendOk } from '../envelope';
import { clientOf } from '../middleware/api-state';
import { requireRole } from '../middleware/authenticate';
import { validateBody, validateParams } from '../middleware/validate';
import { descriptionSchema, idSchema } from '../schemas/common.schema';
import { positionJson, type LedgerServices } from './ledger-services';
import { sendRejection } from './rejection';

/** A node reports at most this many usage records per request. */
export const TRAFFIC_RECORDS_PER_REPORT_MAX = 10_000;

const bytesSchema = { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER } as const;
type UsageRecord = { userId: string; uploadBytes: number; downloadBytes: number };
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

/** Sums the records of each user, so one report is one command per user. */
const usageByUser = (
  records: readonly UsageRecord[],
): Map<string, { uploadBytes: number; downloadBytes: number }> => {
  const totals = new Map<string, { uploadBytes: number; downloadBytes: number }>();
  for (const { userId, uploadBytes, downloadBytes } of records) {
    const current = totals.get(userId) ?? { uploadBytes: 0, downloadBytes: 0 };
    totals.set(userId, {
      uploadBytes: current.uploadBytes + uploadBytes,
      downloadBytes: current.downloadBytes + downloadBytes,
    });
  }
  return totals;
};

const maxPosition = (positions: readonly (bigint | null)[]): bigint | null =>
  positions.reduce<bigint | null>(
    (max, position) => (position !== null && (max === null || position > max) ? position : max),
    null,
  );

export const trafficRoutes =
  (services: LedgerServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const report = validateBody(reportSchema);
    const grant = validateBody(grantSchema);
    const reset = validateBody(resetSchema);
    const params = validateParams(userParamsSchema);
    const admins = requireRole('admin');

    kit.router.post(
      '/traffic/reports',
      requireRole('admin', 'node'),
      kit.jsonBody({ bytesMax: kit.limits.trafficBodyBytesMax }),
      report,
      kit.idempotency(),
      async (ctx) => {
        const { reportId, records } = report.read(ctx);
        const nodeId = clientOf(ctx).clientId;
        const context = commandContext(ctx, services.nowMs());
        const users = [...usageByUser(records)].filter(
          ([, usage]) => usage.uploadBytes + usage.downloadBytes > 0,
        );
        // Report ids are the node's own: scoping them keeps two nodes' report 7 apart.
        const scopedReportId = `${nodeId}:${reportId}`;
        const outcomes = await Promise.all(
          users.map(([userId, usage]) => {
            const command: TrafficCommand = {
              type: 'RecordUsage',
              data: { reportId: scopedReportId, nodeId, ...usage, now: context.now },
            };
            return services.runtime.execute(trafficAggregate, userId, command, {
              ...context,
              eventIdSeed: `${scopedReportId}:${userId}`,
            });
          }),
        );
        const rejected = outcomes.flatMap((outcome, index) =>
          outcome.ok ? [] : [{ userId: users[index]?.[0], code: outcome.rejection }],
        );
        const exceeded = outcomes.flatMap((outcome, index) =>
          outcome.ok && outcome.state.exceeded ? [users[index]?.[0]] : [],
        );
        sendOk(ctx, {
          reportId,
          recordCount: records.length,
          userCount: users.length,
          rejected,
          exceededUserIds: exceeded,
          position: positionJson(maxPosition(outcomes.map((outcome) => outcome.position))),
        });
      },
    );

    const runOnUser = async (
      ctx: Parameters<Parameters<RouteKit['router']['post']>[1]>[0],
      command: TrafficCommand,
      userId: string,
    ) => {
      const context = commandContext(ctx, services.nowMs());
      const outcome = await services.runtime.execute(trafficAggregate, userId, command, context);
      if (!outcome.ok) return sendRejection(ctx, outcome.rejection, outcome.detail, { userId });
      sendOk(ctx, {
        traffic: trafficView(userId, outcome.state),
        position: positionJson(outcome.position),
      });
    };

    kit.router.post(
      '/traffic/users/:userId/grants',
      admins,
      params,
      kit.jsonBody(),
      grant,
      kit.idempotency(),
      async (ctx) => {
        const { grantId, quotaBytes, reason = '' } = grant.read(ctx);
        await runOnUser(
          ctx,
          {
            type: 'GrantQuota',
            data: { grantId, quotaBytes, reason, now: new Date(services.nowMs()).toISOString() },
          },
          params.read(ctx).userId,
        );
      },
    );

    kit.router.post(
      '/traffic/users/:userId/resets',
      admins,
      params,
      kit.jsonBody(),
      reset,
      kit.idempotency(),
      async (ctx) => {
        const { resetId, quotaBytes } = reset.read(ctx);
        await runOnUser(
          ctx,
          {
            type: 'ResetQuota',
            data: { resetId, quotaBytes, now: new Date(services.nowMs()).toISOString() },
          },
          params.read(ctx).userId,
        );
      },
    );

    kit.router.get(
      '/traffic/users/:userId',
      requireRole('admin', 'auditor', 'node'),
      params,
      async (ctx) => {
        const { userId } = params.read(ctx);
        const { state, position } = await services.runtime.read(trafficAggregate, userId);
        sendOk(ctx, { traffic: trafficView(userId, state), position: positionJson(position) });
      },
    );
  };
