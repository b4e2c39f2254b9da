import Router from '@koa/router';
import Koa from 'koa';
import getRawBody from 'raw-body';

/**
 * The baseline for the service's HTTP figures: Koa + @koa/router with one POST route that reads
 * and JSON-parses the body and answers a small envelope, and nothing else (no auth, validation,
 * idempotency or store). Run as its own process with PORT and HOST, like the service.
 */
const BODY_BYTES_MAX = 1024 * 1024;

const app = new Koa();
const router = new Router({ prefix: '/v1' });
router.get('/health', (ctx) => {
  ctx.body = { code: 0, msg: 'ok', data: { status: 'ok' } };
});
router.post('/:resource', async (ctx) => {
  const text = await getRawBody(ctx.req, { limit: BODY_BYTES_MAX, encoding: 'utf8' });
  const parsed: unknown = JSON.parse(text);
  const fieldCount = typeof parsed === 'object' && parsed !== null ? Object.keys(parsed).length : 0;
  ctx.status = 201;
  ctx.body = { code: 0, msg: 'ok', data: { resource: ctx.params['resource'] ?? '', fieldCount } };
});
app.use(router.routes());

const port = Number(process.env['PORT'] ?? '0');
const host = process.env['HOST'] ?? '127.0.0.1';
const server = app.listen(port, host);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
