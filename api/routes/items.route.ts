import type { JSONSchemaType } from 'ajv';
import type { ActorRuntime } from '../../domain/actors/actor-runtime';
import {
  itemAggregate,
  type ItemChanges,
  type ItemCommand,
  type ItemRecord,
} from '../../domain/item/item.decider';
import {
  ITEM_ID_PATTERN,
  listingCommands,
  restockCommand,
  stockAccountOf,
  stockViewOf,
  type StockView,
} from '../../domain/item/item-sale';
import type { Ledger } from '../../domain/ledger/ledger';
import type { ItemCatalogue } from '../../projections/item-catalogue';
import type { RiskGuard } from '../risk-guard';
import type { RouteKit, RouteRegistrar } from '../route-kit';
import { commandContext } from '../command-context';
import { sendError, sendOk } from '../envelope';
import { requireScope } from '../middleware/require-scope';
import { validateBody, validateParams, validateQuery } from '../middleware/validate';
import {
  amountMinorSchema,
  currencySchema,
  idSchema,
  instantSchema,
  pageNumSchema,
  pageSizeSchema,
} from '../schemas/common.schema';
import { executeLedgerRequest, forOnly, outcomeResponse } from './ledger-answers';
import type { SecurityAudit } from './ledger-services';
import { sendRejection } from './rejection';

/** What the catalogue, sale and risk routes need; built by the composition root. */
export type SaleServices = {
  runtime: ActorRuntime;
  ledger: Ledger;
  catalogue: Pick<ItemCatalogue, 'items' | 'itemIdsOfBuyer' | 'caughtUp'>;
  risk: RiskGuard;
  nowMs: () => number;
  audit?: SecurityAudit;
  /** SANDBOX_ENABLED (absent: true): off, test-mode keys buy nothing (domain/mode/mode.ts). */
  sandboxEnabled?: boolean;
};

/** A hold waits this long for its payment unless the item says otherwise (the 15 min). */
const HOLD_TIMEOUT_MS_DEFAULT = 15 * 60 * 1000;
/** Bounds of an item's hold timeout: 10 s (demos, tests) to a day. */
const HOLD_TIMEOUT_MS_MIN = 10_000;
const HOLD_TIMEOUT_MS_MAX = 24 * 3600 * 1000;
/** Units a create or one restock may issue. */
const STOCK_UNITS_MAX = 10_000_000;

export const itemIdSchema = { type: 'string', pattern: ITEM_ID_PATTERN } as const;
const nameSchema = { type: 'string', minLength: 1, maxLength: 200 } as const;
const holdTimeoutSchema = {
  type: 'integer',
  minimum: HOLD_TIMEOUT_MS_MIN,
  maximum: HOLD_TIMEOUT_MS_MAX,
} as const;

type CreateItemBody = {
  itemId: string;
  name: string;
  priceMinor: number;
  currency: string;
  stockUnits: number;
  startsAt: string;
  endsAt: string;
  holdTimeoutMs?: number;
};
const createItemSchema: JSONSchemaType<CreateItemBody> = {
  type: 'object',
  additionalProperties: false,
  required: ['itemId', 'name', 'priceMinor', 'currency', 'stockUnits', 'startsAt', 'endsAt'],
  properties: {
    itemId: itemIdSchema,
    name: nameSchema,
    priceMinor: amountMinorSchema,
    currency: currencySchema,
    stockUnits: { type: 'integer', minimum: 0, maximum: STOCK_UNITS_MAX },
    startsAt: instantSchema,
    endsAt: instantSchema,
    holdTimeoutMs: { ...holdTimeoutSchema, nullable: true },
  },
};

type UpdateItemBody = {
  name?: string;
  priceMinor?: number;
  startsAt?: string;
  endsAt?: string;
  holdTimeoutMs?: number;
};
const updateItemSchema: JSONSchemaType<UpdateItemBody> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  minProperties: 1,
  properties: {
    name: { ...nameSchema, nullable: true },
    priceMinor: { ...amountMinorSchema, nullable: true },
    startsAt: { ...instantSchema, nullable: true },
    endsAt: { ...instantSchema, nullable: true },
    holdTimeoutMs: { ...holdTimeoutSchema, nullable: true },
  },
};

const retireSchema: JSONSchemaType<{ reason?: string }> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: { reason: { type: 'string', minLength: 1, maxLength: 200, nullable: true } },
};

const restockSchema: JSONSchemaType<{ restockId: string; units: number }> = {
  type: 'object',
  additionalProperties: false,
  required: ['restockId', 'units'],
  properties: {
    restockId: idSchema,
    units: { type: 'integer', minimum: 1, maximum: STOCK_UNITS_MAX },
  },
};

export const itemParamsSchema: JSONSchemaType<{ itemId: string }> = {
  type: 'object',
  additionalProperties: false,
  required: ['itemId'],
  properties: { itemId: itemIdSchema },
};

type ListQuery = { page_num?: number; page_size?: number; status?: 'listed' | 'retired' };
const listQuerySchema: JSONSchemaType<ListQuery> = {
  type: 'object',
  additionalProperties: false,
  required: [],
  properties: {
    page_num: { ...pageNumSchema, nullable: true },
    page_size: { ...pageSizeSchema, nullable: true },
    status: { type: 'string', enum: ['listed', 'retired'], nullable: true },
  },
};
const DEFAULT_PAGE_SIZE = 20;

/** Canonical ISO form, so that a retried create with another spelling of an instant matches. */
const instant = (text: string): string => new Date(text).toISOString();

const itemView = (item: ItemRecord, stock: StockView) => ({
  ...item.terms,
  status: item.status,
  createdAt: item.createdAt,
  updatedAt: item.updatedAt,
  retiredAt: item.retiredAt,
  stock,
});

/** The item's stock as the ledger holds it now (not a read model: never behind). */
const stockOf = async (ledger: Ledger, itemId: string): Promise<StockView> =>
  stockViewOf((await ledger.account(stockAccountOf(itemId))).state);

type Ctx = Parameters<Parameters<RouteKit['router']['post']>[1]>[0];

/**
 * The catalogue: admins create, update, retire and restock items; every client lists and reads
 * them with their stock (left, held by unpaid purchases, sold).
 */
export const itemRoutes =
  (services: SaleServices): RouteRegistrar =>
  (kit: RouteKit) => {
    const create = validateBody(createItemSchema);
    const update = validateBody(updateItemSchema);
    const retire = validateBody(retireSchema, { optional: true });
    const restock = validateBody(restockSchema);
    const params = validateParams(itemParamsSchema);
    const list = validateQuery(listQuerySchema);
    const admins = requireScope('catalog:write');

    /** Runs an item command; answers the rejection and returns null, or the item after it. */
    const runItem = async (ctx: Ctx, itemId: string, command: ItemCommand) => {
      const context = commandContext(ctx, services.nowMs());
      const outcome = await services.runtime.execute(itemAggregate, itemId, command, context);
      if (!outcome.ok) {
        sendRejection(ctx, outcome.rejection, outcome.detail, { itemId });
        return null;
      }
      if (outcome.state.status === 'none') {
        sendError(ctx, 'item_not_found', { data: { itemId } });
        return null;
      }
      return { item: outcome.state, changed: outcome.eventCount > 0, context };
    };

    const answerItem = async (ctx: Ctx, item: ItemRecord, status: 200 | 201) => {
      const stock = await stockOf(services.ledger, item.terms.itemId);
      ctx.set('Location', `/v1/items/${item.terms.itemId}`);
      sendOk(ctx, { item: itemView(item, stock) }, status);
    };

    kit.router.post('/items', admins, kit.jsonBody(), create, kit.idempotency(), async (ctx) => {
      const { stockUnits, holdTimeoutMs = HOLD_TIMEOUT_MS_DEFAULT, ...body } = create.read(ctx);
      const terms = {
        ...body,
        startsAt: instant(body.startsAt),
        endsAt: instant(body.endsAt),
        holdTimeoutMs,
      };
      const now = new Date(services.nowMs()).toISOString();
      const done = await runItem(ctx, terms.itemId, {
        type: 'CreateItem',
        data: { ...terms, now },
      });
      if (done === null) return;
      // The item's accounts and first stock; a retried create finds them and changes nothing.
      const reply = await services.ledger.execute({
        commands: listingCommands(terms, stockUnits),
        context: done.context,
        idempotency: null,
      });
      const refused = reply.kind === 'decided' ? reply.outcomes.find((o) => !o.ok) : undefined;
      if (refused !== undefined && !refused.ok)
        return sendRejection(ctx, refused.rejection, refused.detail, { itemId: terms.itemId });
      await answerItem(ctx, done.item, done.changed ? 201 : 200);
    });

    kit.router.patch(
      '/items/:itemId',
      admins,
      params,
      kit.jsonBody(),
      update,
      kit.idempotency(),
      async (ctx) => {
        const { itemId } = params.read(ctx);
        const { startsAt, endsAt, ...rest } = update.read(ctx);
        const changes: ItemChanges = {
          ...rest,
          ...(startsAt === undefined ? {} : { startsAt: instant(startsAt) }),
          ...(endsAt === undefined ? {} : { endsAt: instant(endsAt) }),
        };
        const now = new Date(services.nowMs()).toISOString();
        const done = await runItem(ctx, itemId, { type: 'UpdateItem', data: { changes, now } });
        if (done !== null) await answerItem(ctx, done.item, 200);
      },
    );

    kit.router.post(
      '/items/:itemId/retire',
      admins,
      params,
      kit.jsonBody({ required: false }),
      retire,
      kit.idempotency(),
      async (ctx) => {
        const { itemId } = params.read(ctx);
        const reason = retire.read(ctx)?.reason ?? 'retired by admin';
        const now = new Date(services.nowMs()).toISOString();
        const done = await runItem(ctx, itemId, { type: 'RetireItem', data: { reason, now } });
        if (done !== null) await answerItem(ctx, done.item, 200);
      },
    );

    kit.router.post(
      '/items/:itemId/restocks',
      admins,
      params,
      kit.jsonBody(),
      restock,
      kit.ledgerIdempotency(),
      async (ctx) => {
        const { itemId } = params.read(ctx);
        const item = (await services.runtime.read(itemAggregate, itemId)).state;
        if (item.status === 'none') return sendError(ctx, 'item_not_found', { data: { itemId } });
        if (item.status === 'retired') return sendRejection(ctx, 'item_retired', {}, { itemId });
        const { restockId, units } = restock.read(ctx);
        const context = commandContext(ctx, services.nowMs());
        await executeLedgerRequest(
          ctx,
          services,
          {
            commands: [{ command: restockCommand(itemId, restockId, units), linked: false }],
            context,
          },
          forOnly((outcome) => outcomeResponse(outcome, (changed) => (changed ? 201 : 200))),
        );
      },
    );

    kit.router.get('/items', requireScope('catalog:read'), list, async (ctx) => {
      const query = list.read(ctx);
      const pageSize = query.page_size ?? DEFAULT_PAGE_SIZE;
      const pageNum = query.page_num ?? 1;
      const matching = services.catalogue
        .items()
        .filter((item) => query.status === undefined || item.status === query.status)
        .sort((a, b) => a.terms.startsAt.localeCompare(b.terms.startsAt));
      const page = matching.slice((pageNum - 1) * pageSize, pageNum * pageSize);
      const items = await Promise.all(
        page.map(async (item) => itemView(item, await stockOf(services.ledger, item.terms.itemId))),
      );
      sendOk(ctx, {
        items,
        page_num: pageNum,
        page_size: pageSize,
        total_count: matching.length,
        total_page: Math.ceil(matching.length / pageSize),
      });
    });

    kit.router.get('/items/:itemId', requireScope('catalog:read'), params, async (ctx) => {
      const { itemId } = params.read(ctx);
      const item = (await services.runtime.read(itemAggregate, itemId)).state;
      if (item.status === 'none') return sendError(ctx, 'item_not_found', { data: { itemId } });
      await answerItem(ctx, item, 200);
    });
  };
