import { requireScope } from '../../api/middleware/require-scope';
import type { JSONSchemaType } from 'ajv';
import type { RouteRegistrar } from '../../api/route-kit';
import { sendOk } from '../../api/envelope';
import { validateBody, validateParams, validateQuery } from '../../api/middleware/validate';
import {
  amountMinorSchema,
  currencySchema,
  idSchema,
  pageNumSchema,
  pageSizeSchema,
} from '../../api/schemas/common.schema';
import { bearer, createTestApp } from './support/test-app';
import type { TestApp } from './support/test-app';

/** A scope every test client holds: these routes test something else. */
const anyRole = requireScope('catalog:read');

type TransferBody = {
  transferId: string;
  amountMinor: number;
  currency: string;
  payer: { accountId: string };
};

const transferSchema: JSONSchemaType<TransferBody> = {
  type: 'object',
  properties: {
    transferId: idSchema,
    amountMinor: amountMinorSchema,
    currency: currencySchema,
    payer: {
      type: 'object',
      properties: { accountId: idSchema },
      required: ['accountId'],
      additionalProperties: false,
    },
  },
  required: ['transferId', 'amountMinor', 'currency', 'payer'],
  additionalProperties: false,
};

type PageQuery = { page_num: number; page_size: number };
const pageQuerySchema: JSONSchemaType<PageQuery> = {
  type: 'object',
  properties: { page_num: pageNumSchema, page_size: pageSizeSchema },
  required: ['page_num', 'page_size'],
  additionalProperties: false,
};

const itemParamsSchema: JSONSchemaType<{ itemId: string }> = {
  type: 'object',
  properties: { itemId: idSchema },
  required: ['itemId'],
  additionalProperties: false,
};

const validatedRoutes: RouteRegistrar = ({ router, jsonBody }) => {
  const body = validateBody(transferSchema);
  const query = validateQuery(pageQuerySchema);
  const params = validateParams(itemParamsSchema);
  router.post('/test/transfers', anyRole, jsonBody(), body, (ctx) =>
    sendOk(ctx, body.read(ctx), 201),
  );
  router.get('/test/items', anyRole, query, (ctx) => sendOk(ctx, query.read(ctx)));
  router.get('/test/items/:itemId', anyRole, params, (ctx) => sendOk(ctx, params.read(ctx)));
};

type Notes = { note?: string | null; limit?: number };
const notesSchema: JSONSchemaType<Notes> = {
  type: 'object',
  properties: {
    note: { type: 'string', maxLength: 10, nullable: true },
    limit: { type: 'integer', minimum: 1, nullable: true },
  },
  required: [],
  additionalProperties: false,
};
const limitQuerySchema: JSONSchemaType<{ limit?: number }> = {
  type: 'object',
  properties: { limit: { type: 'integer', minimum: 1, nullable: true } },
  required: [],
  additionalProperties: false,
};

const notedRoutes: RouteRegistrar = ({ router, jsonBody }) => {
  const refusing = validateBody(notesSchema);
  const allowing = validateBody(notesSchema, { nullAllowed: ['note'] });
  const query = validateQuery(limitQuerySchema);
  router.post('/test/notes', anyRole, jsonBody(), refusing, (ctx) =>
    sendOk(ctx, refusing.read(ctx)),
  );
  router.post('/test/notes-nullable', anyRole, jsonBody(), allowing, (ctx) =>
    sendOk(ctx, allowing.read(ctx)),
  );
  router.get('/test/notes', anyRole, query, (ctx) => sendOk(ctx, query.read(ctx)));
};

const valid: TransferBody = {
  transferId: 'tr_1',
  amountMinor: 500,
  currency: 'EUR',
  payer: { accountId: 'acc-1' },
};

describe('ajv validation', () => {
  let api: TestApp;
  beforeEach(async () => {
    api = await createTestApp({ routes: [validatedRoutes] });
  });

  const post = (body: unknown) =>
    api
      .http()
      .post('/v1/test/transfers')
      .set(bearer(api.keys.merchant))
      .send(body as object);

  it('passes a valid body to the handler', async () => {
    const response = await post(valid);
    expect(response.status).toBe(201);
    expect(response.body.data).toEqual(valid);
  });

  it.each([
    ['a wrong type', { ...valid, transferId: 7 }, 'body.transferId must be string', 'transferId'],
    ['an unknown field', { ...valid, foo: 1 }, "body has unknown field 'foo'", 'foo'],
    [
      'an unknown nested field',
      { ...valid, payer: { accountId: 'a', x: 1 } },
      "body.payer has unknown field 'x'",
      'payer.x',
    ],
    ['a missing field', { ...valid, currency: undefined }, 'body.currency is required', 'currency'],
    [
      'a missing nested field',
      { ...valid, payer: {} },
      'body.payer.accountId is required',
      'payer.accountId',
    ],
    ['amount 0', { ...valid, amountMinor: 0 }, 'body.amountMinor must be >= 1', 'amountMinor'],
    ['amount -1', { ...valid, amountMinor: -1 }, 'body.amountMinor must be >= 1', 'amountMinor'],
    [
      'amount 1.5',
      { ...valid, amountMinor: 1.5 },
      'body.amountMinor must be integer',
      'amountMinor',
    ],
    [
      'amount 2^53',
      { ...valid, amountMinor: 2 ** 53 },
      'body.amountMinor must be <= 9007199254740991',
      'amountMinor',
    ],
    [
      'amount as a string',
      { ...valid, amountMinor: '500' },
      'body.amountMinor must be integer',
      'amountMinor',
    ],
    [
      'an unknown currency',
      { ...valid, currency: 'XXY' },
      'body.currency must be equal to one of the allowed values',
      'currency',
    ],
    [
      'a bad id',
      { ...valid, transferId: 'a/b' },
      'body.transferId must match pattern "^[A-Za-z0-9_-]{1,64}$"',
      'transferId',
    ],
    ['an array body', [valid], 'body must be object', 'body'],
    [
      'a null field',
      { ...valid, amountMinor: null },
      'body.amountMinor must not be null',
      'amountMinor',
    ],
    [
      'a null nested field',
      { ...valid, payer: { accountId: null } },
      'body.payer.accountId must not be null',
      'payer.accountId',
    ],
  ])('refuses %s with 400 naming the field', async (_case, body, msg, field) => {
    const response = await post(body);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: 40001, msg, data: { field } });
  });

  it('accepts the largest safe amount', async () => {
    const response = await post({ ...valid, amountMinor: Number.MAX_SAFE_INTEGER });
    expect(response.status).toBe(201);
  });

  it('coerces query strings to the schema types and checks their bounds', async () => {
    const ok = await api
      .http()
      .get('/v1/test/items?page_num=2&page_size=10')
      .set(bearer(api.keys.merchant));
    expect(ok.body.data).toEqual({ page_num: 2, page_size: 10 });
    const tooBig = await api
      .http()
      .get('/v1/test/items?page_num=1&page_size=101')
      .set(bearer(api.keys.merchant));
    expect(tooBig.status).toBe(400);
    expect(tooBig.body.msg).toBe('query.page_size must be <= 100');
    const unknown = await api
      .http()
      .get('/v1/test/items?page_num=1&page_size=1&x=1')
      .set(bearer(api.keys.merchant));
    expect(unknown.body.msg).toBe("query has unknown field 'x'");
  });

  it('checks path parameters', async () => {
    const ok = await api.http().get('/v1/test/items/item_1').set(bearer(api.keys.merchant));
    expect(ok.body.data).toEqual({ itemId: 'item_1' });
    const bad = await api
      .http()
      .get(`/v1/test/items/${'x'.repeat(65)}`)
      .set(bearer(api.keys.merchant));
    expect(bad.status).toBe(400);
    expect(bad.body.data).toEqual({ field: 'itemId' });
  });

  it('refuses null on an optional field unless the route names it in nullAllowed', async () => {
    const noted = await createTestApp({ routes: [notedRoutes] });
    const send = (path: string, body: object) =>
      noted.http().post(path).set(bearer(noted.keys.merchant)).send(body);
    for (const path of ['/v1/test/notes', '/v1/test/notes-nullable']) {
      expect((await send(path, {})).body.data).toEqual({});
      expect((await send(path, { limit: 3 })).body.data).toEqual({ limit: 3 });
    }
    const refused = await send('/v1/test/notes', { note: null });
    expect([refused.status, refused.body]).toEqual([
      400,
      { code: 40001, msg: 'body.note must not be null', data: { field: 'note' } },
    ]);
    expect((await send('/v1/test/notes-nullable', { note: null })).body.data).toEqual({
      note: null,
    });
    const nullLimit = await send('/v1/test/notes-nullable', { limit: null });
    expect(nullLimit.body.msg).toBe('body.limit must not be null');
    // An empty query value is not coerced to null: it is not an integer.
    const empty = await noted.http().get('/v1/test/notes?limit=').set(bearer(noted.keys.merchant));
    expect([empty.status, empty.body.msg]).toEqual([400, 'query.limit must be integer']);
  });

  it('refuses a nullAllowed naming a property that is not nullable, at startup', () => {
    expect(() => validateBody(notesSchema, { nullAllowed: ['nope' as 'note'] })).toThrow(/nope/);
  });

  it('compiles schemas when routes are declared: a typo fails at startup', () => {
    const typo = { type: 'object', properties: {}, additionalProperty: false };
    expect(() => validateBody(typo as unknown as JSONSchemaType<object>)).toThrow(
      /unknown keyword/,
    );
  });
});
