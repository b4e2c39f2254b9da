import { requireScope } from '../../api/middleware/require-scope';
import type { RouteRegistrar } from '../../api/route-kit';
import { sendOk } from '../../api/envelope';
import { rawPost } from './support/raw-http';
import { bearer, createTestApp } from './support/test-app';
import type { TestApp } from './support/test-app';

/** A scope every test client holds: these routes test something else. */
const anyRole = requireScope('catalog:read');

const BYTES_MAX = 64;

const echoRoutes: RouteRegistrar = ({ router, publicRouter, jsonBody, rawBody }) => {
  router.post('/test/echo', anyRole, jsonBody({ bytesMax: BYTES_MAX }), (ctx) =>
    sendOk(ctx, { raw: ctx.state.rawBody?.toString('base64'), parsed: ctx.request.body }),
  );
  router.post('/test/optional', anyRole, jsonBody({ required: false }), (ctx) =>
    sendOk(ctx, { bodyAbsent: ctx.request.body === undefined }),
  );
  publicRouter.post('/test/callback', rawBody({ bytesMax: BYTES_MAX }), (ctx) =>
    sendOk(ctx, { raw: ctx.state.rawBody?.toString('base64') }),
  );
};

describe('request bodies', () => {
  let api: TestApp;
  beforeEach(async () => {
    api = await createTestApp({ routes: [echoRoutes] });
  });

  const echo = () => api.http().post('/v1/test/echo').set(bearer(api.keys.merchant));

  it('keeps the exact bytes in ctx.state.rawBody and parses them into ctx.request.body', async () => {
    const text = '{ "b":1,\n  "a" : [1, 2.50], "é": "ü" }';
    const response = await echo().type('application/json').send(text);
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body.data.raw, 'base64').toString('utf8')).toBe(text);
    expect(response.body.data.parsed).toEqual({ b: 1, a: [1, 2.5], é: 'ü' });
  });

  it('accepts +json media types and an explicit utf-8 charset', async () => {
    const vendor = await echo().type('application/vnd.ledger+json').send('{"a":1}');
    expect(vendor.status).toBe(200);
    const utf8 = await echo()
      .set('Content-Type', 'application/json; charset=UTF-8')
      .send('{"a":1}');
    expect(utf8.status).toBe(200);
  });

  it('answers malformed JSON with 400 malformed_json', async () => {
    const response = await echo().type('application/json').send('{"a":');
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ code: 40002, msg: 'the body is not valid JSON', data: null });
  });

  it('answers invalid UTF-8 with 400 malformed_json instead of replacing characters', async () => {
    const response = await rawPost(api.listener, {
      path: '/v1/test/echo',
      headers: { ...bearer(api.keys.merchant), 'Content-Type': 'application/json' },
      chunks: [Buffer.from([0x22, 0xff, 0x22])], // "\xff": a string holding an invalid byte.
      end: true,
    });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 40002 });
  });

  it.each([
    ['text/plain', {}],
    ['application/x-www-form-urlencoded', {}],
    ['application/json; charset=latin1', {}],
    ['application/json', { 'Content-Encoding': 'gzip' }],
  ])('answers %s %j with 415', async (type, headers) => {
    const response = await echo().set('Content-Type', type).set(headers).send('{"a":1}');
    expect(response.status).toBe(415);
    expect(response.body.code).toBe(41501);
  });

  it('answers a missing body with 400 invalid_request when the route needs one', async () => {
    const response = await echo();
    expect(response.status).toBe(400);
    expect(response.body).toEqual({
      code: 40001,
      msg: 'body is required',
      data: { field: 'body' },
    });
  });

  it('lets an optional body be absent', async () => {
    const response = await api.http().post('/v1/test/optional').set(bearer(api.keys.merchant));
    expect(response.status).toBe(200);
    expect(response.body.data).toEqual({ bodyAbsent: true });
  });

  it('answers 413 when Content-Length announces too much, without reading the body', async () => {
    const response = await rawPost(api.listener, {
      path: '/v1/test/echo',
      headers: {
        ...bearer(api.keys.merchant),
        'Content-Type': 'application/json',
        'Content-Length': 10_000_000,
      },
      chunks: [Buffer.from('{"a":1')],
      end: false, // The server must answer before the 10 MB that will never come.
    });
    expect(response.status).toBe(413);
    expect(response.body).toEqual({
      code: 41301,
      msg: `body exceeds ${BYTES_MAX} bytes`,
      data: null,
    });
    expect(response.headers['connection']).toBe('close');
  });

  it('answers 413 when a chunked body grows past the limit', async () => {
    const response = await rawPost(api.listener, {
      path: '/v1/test/echo',
      headers: { ...bearer(api.keys.merchant), 'Content-Type': 'application/json' },
      chunks: Array.from({ length: 10 }, () => Buffer.from(' '.repeat(10))),
      end: true,
    });
    expect(response.status).toBe(413);
    expect(response.body).toMatchObject({ code: 41301 });
  });

  it('accepts a chunked body within the limit', async () => {
    const response = await rawPost(api.listener, {
      path: '/v1/test/echo',
      headers: { ...bearer(api.keys.merchant), 'Content-Type': 'application/json' },
      chunks: [Buffer.from('{"a":'), Buffer.from('1}')],
      end: true,
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ data: { parsed: { a: 1 } } });
  });

  it('keeps raw bytes of any type on raw-body routes, limit included', async () => {
    const form = 'trade_no=42&sign=abc%3D%3D';
    const response = await api.http().post('/v1/test/callback').type('form').send(form);
    expect(response.status).toBe(200);
    expect(Buffer.from(response.body.data.raw, 'base64').toString('utf8')).toBe(form);
    const tooLarge = await api
      .http()
      .post('/v1/test/callback')
      .type('text/xml')
      .send('x'.repeat(65));
    expect(tooLarge.status).toBe(413);
  });
});
