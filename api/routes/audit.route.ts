import type { JSONSchemaType } from 'ajv';
import type { EventStore, RecordedEvent } from '../../domain/ports/event-store.port';
import {
  eventJsonLine,
  reconcileBalances,
  verifyChains,
  verifyStream,
} from '../../projections/audit-toolkit';
import { queryTrail } from '../../projections/audit-trail.query';
import { RebuildInProgressError, type RebuildLimit } from '../../projections/read-side';
import { sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateQuery } from '../middleware/validate';
import { sendError } from '../envelope';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { idSchema, instantSchema } from '../schemas/common.schema';
import {
  commonQueryProperties,
  instantFilterSchema,
  normalInstant,
  pageOf,
  pageWindowOf,
  prepareQuery,
  type CommonQuery,
  type QueryDeps,
} from './queries/query-kit';

/**
 * /v1/audit, for auditors and admins: the audit trail, export of a stream or of the log as JSON
 * lines, hash-chain verification, reconciliation, read-side status and (admins) rebuilds.
 */
type AuditDeps = QueryDeps & {
  eventStore: EventStore;
  exportEventCountMax: number;
  verifyStreamEventCountMax: number;
  onRebuildError: (error: unknown) => void;
};

type TrailQuery = CommonQuery & {
  client_id?: string;
  stream?: string;
  category?: string;
  correlation_id?: string;
  from?: string;
  to?: string;
};
type ExportQuery = { stream?: string; after?: string; limit?: number };
type RebuildBody = { untilPosition?: string; untilTime?: string };

const STREAM_SCHEMA = {
  type: 'string',
  pattern: '^[A-Za-z0-9_]{1,32}-[A-Za-z0-9_:.-]{1,128}$',
  nullable: true,
} as const;
const POSITION_SCHEMA = { type: 'string', pattern: '^[0-9]{1,20}$', nullable: true } as const;

const trailSchema: JSONSchemaType<TrailQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ...commonQueryProperties,
    client_id: { ...idSchema, nullable: true },
    stream: STREAM_SCHEMA,
    category: { type: 'string', pattern: '^[A-Za-z0-9_]{1,32}$', nullable: true },
    correlation_id: { type: 'string', pattern: '^[A-Za-z0-9_:.-]{1,128}$', nullable: true },
    from: instantFilterSchema,
    to: instantFilterSchema,
  },
};
const exportSchema: JSONSchemaType<ExportQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    stream: STREAM_SCHEMA,
    after: POSITION_SCHEMA,
    limit: { type: 'integer', minimum: 1, maximum: 10_000, nullable: true },
  },
};
const verifySchema: JSONSchemaType<{ stream?: string }> = {
  type: 'object',
  additionalProperties: false,
  properties: { stream: STREAM_SCHEMA },
};
const emptySchema: JSONSchemaType<Record<string, never>> = {
  type: 'object',
  additionalProperties: false,
  properties: {},
  required: [],
};
const rebuildSchema: JSONSchemaType<RebuildBody> = {
  type: 'object',
  additionalProperties: false,
  properties: { untilPosition: POSITION_SCHEMA, untilTime: { ...instantSchema, nullable: true } },
};

const exportPage = async (
  store: EventStore,
  query: ExportQuery,
  countMax: number,
): Promise<readonly RecordedEvent[]> => {
  const eventCountMax = Math.min(query.limit ?? countMax, countMax);
  if (query.stream === undefined)
    return store.readAll({
      afterPosition: query.after === undefined ? null : BigInt(query.after),
      eventCountMax,
    });
  const fromRevision = query.after === undefined ? 0 : Number(query.after) + 1;
  return store.readStream(query.stream, { fromRevision, direction: 'forwards', eventCountMax });
};

export const auditRoutes =
  (deps: AuditDeps): RouteRegistrar =>
  (kit: RouteKit) => {
    const auditors = requireScope('audit:read');
    const trail = validateQuery(trailSchema);
    const exported = validateQuery(exportSchema);
    const verify = validateQuery(verifySchema);
    const noQuery = validateQuery(emptySchema);
    const rebuild = validateBody(rebuildSchema, { optional: true });

    kit.router.get('/audit/trail', auditors, trail, async (ctx) => {
      const query = trail.read(ctx);
      const generation = await prepareQuery(deps, ctx, query);
      if (generation === null) return;
      const filter = {
        clientId: query.client_id ?? null,
        stream: query.stream ?? null,
        category: query.category ?? null,
        correlationId: query.correlation_id ?? null,
        from: normalInstant(query.from),
        to: normalInstant(query.to),
      };
      const reader = { eventStore: deps.eventStore, store: deps.readSide.store, generation };
      const found = await queryTrail(reader, filter, pageWindowOf(query));
      sendOk(ctx, pageOf(deps, generation, query, found));
    });

    // JSON lines, oldest first; X-Next-After is the `after` of the next page (a position for the
    // log, a revision for a stream), absent once the page came back short.
    kit.router.get('/audit/events', auditors, exported, async (ctx) => {
      const query = exported.read(ctx);
      const events = await exportPage(deps.eventStore, query, deps.exportEventCountMax);
      const last = events[events.length - 1];
      if (
        last !== undefined &&
        events.length ===
          Math.min(query.limit ?? deps.exportEventCountMax, deps.exportEventCountMax)
      ) {
        ctx.set(
          'X-Next-After',
          query.stream === undefined ? last.position.toString() : String(last.revision),
        );
      }
      ctx.type = 'application/x-ndjson';
      ctx.body = events.map((event) => `${eventJsonLine(event)}\n`).join('');
    });

    kit.router.get('/audit/verify', auditors, verify, async (ctx) => {
      const { stream } = verify.read(ctx);
      const report =
        stream === undefined
          ? await verifyChains(deps.eventStore)
          : await verifyStream(deps.eventStore, stream, deps.verifyStreamEventCountMax);
      sendOk(ctx, report);
    });

    kit.router.get('/audit/reconcile', auditors, noQuery, async (ctx) => {
      const report = await reconcileBalances(
        deps.eventStore,
        deps.readSide.store,
        deps.readSide.activeGeneration(),
      );
      sendOk(
        ctx,
        JSON.parse(
          JSON.stringify(report, (_key, value: unknown) =>
            typeof value === 'bigint' ? value.toString() : value,
          ),
        ) as unknown,
      );
    });

    kit.router.get('/audit/read-side', auditors, noQuery, async (ctx) => {
      sendOk(ctx, {
        activeGeneration: deps.readSide.activeGeneration(),
        lag: await deps.readSide.lag(),
        generations: await deps.readSide.generations(),
      });
    });

    kit.router.post(
      '/audit/rebuild',
      requireScope('audit:write'),
      kit.jsonBody({ required: false }),
      rebuild,
      kit.idempotency(),
      (ctx) => {
        const body = rebuild.read(ctx) ?? {};
        const limit: RebuildLimit = {
          untilPosition: body.untilPosition === undefined ? null : BigInt(body.untilPosition),
          untilTime: normalInstant(body.untilTime),
        };
        if (deps.readSide.rebuilding()) {
          sendError(ctx, 'rebuild_in_progress');
          return;
        }
        deps.readSide.rebuild(limit).catch((error: unknown) => {
          if (!(error instanceof RebuildInProgressError)) deps.onRebuildError(error);
        });
        sendOk(ctx, { started: true, status: '/v1/audit/read-side' }, 202);
      },
    );
  };
