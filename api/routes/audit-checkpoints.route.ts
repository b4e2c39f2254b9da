import type { JSONSchemaType } from 'ajv';
import type { SignedCheckpoint, StreamHead } from '../../domain/audit/log-checkpoint';
import type { LogVerification } from '../../domain/audit/log-verifier';
import type { EventStore } from '../../domain/ports/event-store.port';
import type { LedgerSummary } from '../../projections/ledger-summary';
import { sendError, sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateParams, validateQuery } from '../middleware/validate';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { pageNumSchema, pageSizeSchema } from '../schemas/common.schema';

/**
 * What the auditor console reads (admin, auditor): the log verified against its signed
 * checkpoints (run now, or the last run's report), the latest checkpoint, a browser of the
 * streams (their heads as the latest checkpoint signed them) and of one stream's events with
 * their hashes, and the ledger's totals per currency with its daily volume, folded from the log.
 */
type AuditConsoleDeps = {
  verify: () => Promise<LogVerification>;
  latestCheckpoint: () => SignedCheckpoint | null;
  streamHeads: (query: { prefix: string; offset: number; limit: number }) => {
    heads: StreamHead[];
    totalCount: number;
  };
  eventStore: EventStore;
  summary: (options: { fromDay: string; nowMs: number }) => Promise<LedgerSummary>;
};

const DEFAULT_PAGE_SIZE = 20;
const DAY_MS = 86_400_000;
const VOLUME_DAYS_MAX = 366;
const DEFAULT_VOLUME_DAYS = 30;

type StreamsQuery = { category?: string; page_num?: number; page_size?: number };
const streamsQuerySchema: JSONSchemaType<StreamsQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    category: { type: 'string', pattern: '^[A-Za-z0-9_]{1,64}$', nullable: true },
    page_num: { ...pageNumSchema, nullable: true },
    page_size: { ...pageSizeSchema, nullable: true },
  },
};
type PageQuery = { page_num?: number; page_size?: number };
const pageQuerySchema: JSONSchemaType<PageQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: {
    page_num: { ...pageNumSchema, nullable: true },
    page_size: { ...pageSizeSchema, nullable: true },
  },
};
const streamParamsSchema: JSONSchemaType<{ stream: string }> = {
  type: 'object',
  additionalProperties: false,
  properties: { stream: { type: 'string', pattern: '^[A-Za-z0-9_:.-]{1,200}$' } },
  required: ['stream'],
};
type SummaryQuery = { days?: number };
const summaryQuerySchema: JSONSchemaType<SummaryQuery> = {
  type: 'object',
  additionalProperties: false,
  properties: { days: { type: 'integer', minimum: 1, maximum: VOLUME_DAYS_MAX, nullable: true } },
};

const pageOf = (query: PageQuery) => {
  const pageNum = query.page_num ?? 1;
  const pageSize = query.page_size ?? DEFAULT_PAGE_SIZE;
  return { pageNum, pageSize, offset: (pageNum - 1) * pageSize };
};

const paged = <T>(items: T[], pageNum: number, pageSize: number, totalCount: number) => ({
  items,
  page_num: pageNum,
  page_size: pageSize,
  total_count: totalCount,
  total_page: Math.ceil(totalCount / pageSize),
});

export const auditCheckpointRoutes =
  (deps: AuditConsoleDeps): RouteRegistrar =>
  (kit: RouteKit) => {
    const auditors = requireScope('audit:read');
    let lastVerification: { verifiedAt: string; report: LogVerification } | null = null;
    kit.router.get('/audit/checkpoints/verify', auditors, async (ctx) => {
      const report = await deps.verify();
      lastVerification = { verifiedAt: new Date(kit.nowMs()).toISOString(), report };
      sendOk(ctx, report);
    });
    kit.router.get('/audit/checkpoints/verify/last', auditors, (ctx) => {
      sendOk(ctx, { verification: lastVerification });
    });
    kit.router.get('/audit/checkpoints/latest', auditors, (ctx) => {
      sendOk(ctx, { checkpoint: deps.latestCheckpoint() });
    });
    const streamsQuery = validateQuery(streamsQuerySchema);
    kit.router.get('/audit/streams', auditors, streamsQuery, (ctx) => {
      const query = streamsQuery.read(ctx);
      const { pageNum, pageSize, offset } = pageOf(query);
      const prefix = query.category === undefined ? '' : `${query.category}-`;
      const { heads, totalCount } = deps.streamHeads({ prefix, offset, limit: pageSize });
      sendOk(ctx, paged(heads, pageNum, pageSize, totalCount));
    });
    const streamParams = validateParams(streamParamsSchema);
    const eventsQuery = validateQuery(pageQuerySchema);
    kit.router.get(
      '/audit/streams/:stream/events',
      auditors,
      streamParams,
      eventsQuery,
      async (ctx) => {
        const { stream } = streamParams.read(ctx);
        const { pageNum, pageSize, offset } = pageOf(eventsQuery.read(ctx));
        const [last] = await deps.eventStore.readStream(stream, {
          fromRevision: 'end',
          direction: 'backwards',
          eventCountMax: 1,
        });
        if (last === undefined) {
          sendError(ctx, 'not_found', { msg: 'no such stream', data: { stream } });
          return;
        }
        // One event before the page, for the first one's previous hash.
        const fromRevision = Math.max(0, offset - 1);
        const events = await deps.eventStore.readStream(stream, {
          fromRevision,
          direction: 'forwards',
          eventCountMax: pageSize + (offset > 0 ? 1 : 0),
        });
        const items = events
          .map((event, index) => ({
            revision: event.revision,
            position: event.position.toString(),
            id: event.id,
            type: event.type,
            occurredAt: event.metadata.occurredAt,
            hash: event.metadata.hash,
            previousHash: event.revision === 0 ? null : (events[index - 1]?.metadata.hash ?? null),
            data: event.data,
          }))
          .filter((event) => event.revision >= offset);
        sendOk(ctx, { stream, ...paged(items, pageNum, pageSize, last.revision + 1) });
      },
    );
    const summaryQuery = validateQuery(summaryQuerySchema);
    kit.router.get('/audit/summary', auditors, summaryQuery, async (ctx) => {
      const days = summaryQuery.read(ctx).days ?? DEFAULT_VOLUME_DAYS;
      const nowMs = kit.nowMs();
      const fromDay = new Date(nowMs - (days - 1) * DAY_MS).toISOString().slice(0, 10);
      sendOk(ctx, await deps.summary({ fromDay, nowMs }));
    });
  };
