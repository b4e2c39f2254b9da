import type { ParameterizedContext } from 'koa';
import type { JsonObject } from '../../../domain/ports/event-store.port';
import type { DocumentQuery, FieldValue } from '../../../domain/ports/read-model-store.port';
import { collectionIn } from '../../../projections/read-models';
import type { ReadSideView } from '../../../projections/read-side';
import { viewOf } from '../../../projections/projection';
import { sendError } from '../../envelope';
import { clientOf } from '../../middleware/api-state';
import type { ApiState } from '../../middleware/api-state';
import { pageNumSchema, pageSizeSchema } from '../../schemas/common.schema';

/**
 * What every read-model query shares: pagination (page_num, page_size ≤ 100 → total_count,
 * total_page), read-your-writes (?after=<position> waits up to afterWaitMs, then 409
 * position_not_reached with the current position) and, for auditors and admins, ?generation=<n>
 * to query another generation (a point-in-time snapshot).
 */
export type QueryDeps = { readSide: ReadSideView; afterWaitMs: number };

export type CommonQuery = {
  page_num?: number;
  page_size?: number;
  after?: string;
  generation?: number;
};

const POSITION_PATTERN = '^[0-9]{1,20}$';
const DEFAULT_PAGE_SIZE = 20;

/** Schema members of CommonQuery, spread into each route's query schema (additionalProperties false). */
export const commonQueryProperties = {
  page_num: { ...pageNumSchema, nullable: true },
  page_size: { ...pageSizeSchema, nullable: true },
  after: { type: 'string', pattern: POSITION_PATTERN, nullable: true },
  generation: { type: 'integer', minimum: 1, maximum: 1_000_000, nullable: true },
} as const;

/** An ISO-8601 instant as a filter bound (compared as text, as the documents store them). */
export const instantFilterSchema = { type: 'string', format: 'date-time', nullable: true } as const;

export type QueryCtx = Pick<ParameterizedContext, 'body' | 'status' | 'set'> & { state: ApiState };

/**
 * Waits for ?after and resolves the generation; answers (403/404/409) and returns null when the
 * query cannot go on.
 */
export const prepareQuery = async (
  deps: QueryDeps,
  ctx: QueryCtx,
  query: CommonQuery,
): Promise<number | null> => {
  if (query.after !== undefined) {
    const passed = await deps.readSide.waitForPosition(BigInt(query.after), deps.afterWaitMs);
    if (!passed) {
      const current = deps.readSide.appliedPosition();
      sendError(ctx, 'position_not_reached', {
        data: { after: query.after, position: current?.toString() ?? null },
      });
      return null;
    }
  }
  if (query.generation === undefined) return deps.readSide.activeGeneration();
  const { role } = clientOf(ctx);
  if (role !== 'admin' && role !== 'auditor') {
    sendError(ctx, 'forbidden', { msg: 'only auditors and admins query another generation' });
    return null;
  }
  const record = await deps.readSide.generation(query.generation);
  if (record === null || (record.status !== 'live' && record.status !== 'snapshot')) {
    sendError(ctx, 'generation_not_found', { data: { generation: query.generation } });
    return null;
  }
  return query.generation;
};

type Page = {
  items: JsonObject[];
  page_num: number;
  page_size: number;
  total_count: number;
  total_page: number;
  generation: number;
  position: string | null;
};

/** Where a page starts (0-based) and how many items it holds. */
export const pageWindowOf = (query: CommonQuery): { offset: number; limit: number } => {
  const pageSize = query.page_size ?? DEFAULT_PAGE_SIZE;
  return { offset: ((query.page_num ?? 1) - 1) * pageSize, limit: pageSize };
};

/** The page answer around items found for `query` in a generation. */
export const pageOf = (
  deps: QueryDeps,
  generation: number,
  query: CommonQuery,
  found: { items: JsonObject[]; totalCount: number },
): Page => {
  const pageSize = query.page_size ?? DEFAULT_PAGE_SIZE;
  return {
    items: found.items,
    page_num: query.page_num ?? 1,
    page_size: pageSize,
    total_count: found.totalCount,
    total_page: Math.ceil(found.totalCount / pageSize),
    generation,
    position: deps.readSide.appliedPosition()?.toString() ?? null,
  };
};

/** One page of views from a logical collection of a generation. */
export const findPage = async (
  deps: QueryDeps,
  generation: number,
  logical: string,
  query: CommonQuery,
  filter: {
    where: Readonly<Record<string, FieldValue | undefined>>;
    range: DocumentQuery['range'];
    orderBy: DocumentQuery['orderBy'];
  },
  /** What the API shows of a document: its `view`, unless the collection says otherwise. */
  showDocument: (document: JsonObject) => JsonObject = viewOf,
): Promise<Page> => {
  const where: Record<string, FieldValue> = {};
  for (const [field, value] of Object.entries(filter.where))
    if (value !== undefined) where[field] = value;
  const found = await deps.readSide.store.find(collectionIn(logical, generation), {
    where,
    range: filter.range,
    orderBy: filter.orderBy,
    ...pageWindowOf(query),
  });
  return pageOf(deps, generation, query, {
    items: found.documents.map(showDocument),
    totalCount: found.totalCount,
  });
};

/** A single stored document (not just its view) of a generation, or null. */
export const findDocument = (
  deps: QueryDeps,
  generation: number,
  logical: string,
  id: string,
): Promise<JsonObject | null> => deps.readSide.store.get(collectionIn(logical, generation), id);

/** A range filter from optional bounds; null when neither is given. */
export const rangeOf = (
  field: string,
  from: string | undefined,
  to: string | undefined,
): DocumentQuery['range'] =>
  from === undefined && to === undefined
    ? null
    : { field, from: normalInstant(from), to: normalInstant(to) };

/** Documents hold instants as toISOString() text (UTC, milliseconds): bounds are compared alike. */
export const normalInstant = (instant: string | undefined): string | null => {
  if (instant === undefined) return null;
  const ms = Date.parse(instant);
  return Number.isNaN(ms) ? instant : new Date(ms).toISOString();
};

/** Auditors and admins see everything. */
export const seesAll = (ctx: { state: ApiState }): boolean => {
  const { role } = clientOf(ctx);
  return role === 'admin' || role === 'auditor';
};
