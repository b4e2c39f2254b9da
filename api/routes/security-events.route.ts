import type { JSONSchemaType } from 'ajv';
import {
  SECURITY_EVENT_KINDS,
  type SecurityEventKind,
  type SecurityEventStore,
} from '../../domain/ports/security-event.port';
import type { RouteRegistrar } from '../route-kit';
import { sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateQuery } from '../middleware/validate';
import { instantSchema } from '../schemas/common.schema';

const PAGE_SIZE_DEFAULT = 100;
const PAGE_SIZE_MAX = 1000;

type SecurityEventsQuery = {
  kind?: SecurityEventKind;
  from?: string;
  to?: string;
  after?: number;
  page_size?: number;
};

const querySchema: JSONSchemaType<SecurityEventsQuery> = {
  type: 'object',
  properties: {
    kind: { type: 'string', enum: SECURITY_EVENT_KINDS, nullable: true },
    from: { ...instantSchema, nullable: true },
    to: { ...instantSchema, nullable: true },
    after: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, nullable: true },
    page_size: { type: 'integer', minimum: 1, maximum: PAGE_SIZE_MAX, nullable: true },
  },
  required: [],
  additionalProperties: false,
};

/** An instant as the store compares it: normalised to UTC, so that offsets sort right. */
const utc = (instant: string | undefined): string | null =>
  instant === undefined ? null : new Date(instant).toISOString();

/**
 * GET /v1/security-events (scope audit:read): the security audit trail in the order it was
 * written, filtered by kind and time, paged by `after` (the last sequence of the previous page).
 */
export const securityEventRoutes =
  (store: SecurityEventStore): RouteRegistrar =>
  (kit) => {
    const query = validateQuery(querySchema);
    kit.router.get('/security-events', requireScope('audit:read'), query, async (ctx) => {
      const { kind, from, to, after, page_size: pageSize = PAGE_SIZE_DEFAULT } = query.read(ctx);
      const events = await store.list({
        kind: kind ?? null,
        fromIso: utc(from),
        toIso: utc(to),
        afterSequence: after ?? 0,
        countMax: pageSize,
      });
      const last = events.at(-1);
      sendOk(ctx, {
        events,
        nextAfter: events.length === pageSize && last !== undefined ? last.sequence : null,
      });
    });
  };
