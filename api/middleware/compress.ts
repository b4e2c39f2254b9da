import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { Middleware } from 'koa';

/**
 * gzip for large answers (lists, exports): a JSON, NDJSON or text body of at least `bytesMin`
 * bytes is compressed when the request's Accept-Encoding admits gzip (q > 0). Streams are left
 * alone, so SSE keeps flushing event by event; so are bodies already encoded, HEAD requests and
 * bodiless statuses. The compression runs in libuv's thread pool, not on the event loop.
 */
const gzipAsync = promisify(gzip);
const COMPRESSIBLE_TYPE = /^(application\/(json|x-ndjson)|text\/)/;

/** Below this, gzip's header and the CPU cost more than the bytes saved. */
export const COMPRESS_BYTES_MIN = 2048;

/**
 * The body as it will be sent: a Buffer or a string (an object's JSON text, made here once: the
 * middleware puts the text in place of the object, so Koa does not serialise it a second time).
 * Null for what is not buffered: streams (SSE), blobs, web streams.
 */
const sentBodyOf = (body: unknown): Buffer | string | null => {
  if (Buffer.isBuffer(body) || typeof body === 'string') return body;
  if (typeof body !== 'object' || body === null) return null;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return null;
  if (body instanceof Blob || body instanceof ReadableStream || body instanceof Response)
    return null;
  return JSON.stringify(body);
};

export const compressResponses =
  (bytesMin: number): Middleware =>
  async (ctx, next) => {
    await next();
    if (ctx.method === 'HEAD' || ctx.status === 204 || ctx.status === 304) return;
    if (ctx.response.headers['content-encoding'] !== undefined) return;
    if (!COMPRESSIBLE_TYPE.test(ctx.response.type)) return;
    const sent = sentBodyOf(ctx.body);
    if (sent === null) return;
    // Content-Type is set (a JSON body set it), so Koa keeps it for the text.
    if (sent !== ctx.body) ctx.body = sent;
    ctx.vary('Accept-Encoding');
    const byteCount = typeof sent === 'string' ? Buffer.byteLength(sent) : sent.length;
    if (byteCount < bytesMin || ctx.acceptsEncodings('gzip', 'identity') !== 'gzip') return;
    const type = ctx.response.get('Content-Type');
    ctx.body = await gzipAsync(sent);
    ctx.set('Content-Type', type);
    ctx.set('Content-Encoding', 'gzip');
  };
