import { createServer, get, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import Koa from 'koa';
import { COMPRESS_BYTES_MIN, compressResponses } from '../../api/middleware/compress';

const LIST = {
  code: 0,
  msg: 'ok',
  data: { items: Array.from({ length: 200 }, (_, index) => ({ accountId: `a${index}` })) },
};

const app = () => {
  const koa = new Koa();
  koa.use(compressResponses(COMPRESS_BYTES_MIN));
  koa.use((ctx) => {
    if (ctx.path === '/list') ctx.body = LIST;
    if (ctx.path === '/small') ctx.body = { code: 0, msg: 'ok', data: {} };
    if (ctx.path === '/export') {
      ctx.type = 'application/x-ndjson';
      ctx.body = LIST.data.items.map((item) => `${JSON.stringify(item)}\n`).join('');
    }
    if (ctx.path === '/stream') {
      const out = new PassThrough();
      ctx.type = 'text/event-stream';
      ctx.body = out;
      out.end(`data: ${'x'.repeat(5000)}\n\n`);
    }
  });
  return koa.callback();
};

/** The raw bytes and headers over a real socket (supertest would decompress them). */
const raw = async (path: string, acceptEncoding: string | null) => {
  const server = createServer(app());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<{ headers: IncomingHttpHeaders; bytes: Buffer }>((resolve, reject) => {
      const headers = acceptEncoding === null ? {} : { 'Accept-Encoding': acceptEncoding };
      get({ host: '127.0.0.1', port, path, headers, agent: false }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({ headers: response.headers, bytes: Buffer.concat(chunks) }),
        );
      }).on('error', reject);
    });
  } finally {
    server.close();
  }
};

describe('gzip of large answers', () => {
  it('compresses a large JSON list when the client accepts gzip, and keeps its type', async () => {
    const { headers, bytes } = await raw('/list', 'br;q=1, gzip;q=0.8');
    expect(headers['content-encoding']).toBe('gzip');
    expect(headers['content-type']).toBe('application/json; charset=utf-8');
    expect(headers['vary']).toContain('Accept-Encoding');
    const plain = JSON.stringify(LIST);
    expect(plain.length).toBeGreaterThanOrEqual(COMPRESS_BYTES_MIN);
    expect(bytes.length).toBeLessThan(plain.length / 4);
    expect(JSON.parse(gunzipSync(bytes).toString('utf8'))).toEqual(LIST);
  });

  it('compresses an NDJSON export', async () => {
    const { headers, bytes } = await raw('/export', 'gzip');
    expect(headers['content-encoding']).toBe('gzip');
    expect(headers['content-type']).toBe('application/x-ndjson');
    expect(gunzipSync(bytes).toString('utf8').split('\n')).toHaveLength(201);
  });

  it.each([
    ['no Accept-Encoding', null],
    ['identity only', 'identity'],
    ['gzip refused with q=0', 'gzip;q=0, identity'],
  ])('sends a large list uncompressed with %s', async (_what, acceptEncoding) => {
    const { headers, bytes } = await raw('/list', acceptEncoding);
    expect(headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(bytes.toString('utf8'))).toEqual(LIST);
  });

  it('leaves small answers and streams (SSE) alone', async () => {
    const small = await raw('/small', 'gzip');
    expect(small.headers['content-encoding']).toBeUndefined();
    const stream = await raw('/stream', 'gzip');
    expect(stream.headers['content-encoding']).toBeUndefined();
    expect(stream.bytes.toString('utf8')).toContain('data: xxx');
  });
});
