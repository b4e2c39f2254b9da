import getRawBody from 'raw-body';
import { sendError } from '../envelope';
import type { RouteMiddleware } from './api-state';

declare module 'koa' {
  interface Request {
    /** Parsed JSON set by jsonBody(); unknown until a validator has checked it. */
    body?: unknown;
  }
}

export type JsonBodyOptions = {
  /** Larger bodies are refused with 413, before reading when Content-Length announces them. */
  bytesMax: number;
  /** True: an absent or empty body is a 400. False: it leaves ctx.request.body undefined. */
  required: boolean;
};

/**
 * A route's own reader of its large bodies: the checked value when it read the body in full
 * (ctx.request.body; JSON.parse is skipped), else null and JSON.parse reads it as usual. It must
 * accept only what JSON.parse and the route's validator accept, and read the same values.
 */
type FastParse = (bytes: Buffer) => object | null;

type BodyContext = Parameters<RouteMiddleware>[0];

/**
 * Reads the body's bytes once into ctx.state.rawBody without interpreting them: for channel
 * callbacks whose bodies are form or XML and whose signatures cover the exact bytes.
 */
export const rawBody =
  (options: { bytesMax: number }): RouteMiddleware =>
  async (ctx, next) => {
    const bytes = await readBytes(ctx, options.bytesMax);
    if (bytes === null) return;
    ctx.state.rawBody = bytes;
    await next();
  };

/** Reads the body once (ctx.state.rawBody keeps the exact bytes) and parses it as JSON. */
export const jsonBody =
  (options: JsonBodyOptions & { fastParse?: FastParse }): RouteMiddleware =>
  async (ctx, next) => {
    if (hasBody(ctx) && !isUtf8Json(ctx)) {
      sendError(ctx, 'unsupported_media_type');
      return;
    }
    const bytes = hasBody(ctx) ? await readBytes(ctx, options.bytesMax) : Buffer.alloc(0);
    if (bytes === null) return;
    ctx.state.rawBody = bytes;
    if (bytes.length === 0) {
      if (options.required) {
        sendError(ctx, 'invalid_request', { msg: 'body is required', data: { field: 'body' } });
        return;
      }
      ctx.request.body = undefined;
      await next();
      return;
    }
    const fast = options.fastParse?.(bytes) ?? null;
    if (fast !== null) {
      ctx.request.body = fast;
      await next();
      return;
    }
    const parsed = parseJson(bytes);
    if (!parsed.ok) {
      sendError(ctx, 'malformed_json');
      return;
    }
    ctx.request.body = parsed.value;
    await next();
  };

/** Content-Length: 0 is no body whatever its type (clients send it on an empty POST). */
const hasBody = (ctx: BodyContext): boolean =>
  ctx.get('Transfer-Encoding') !== '' || (ctx.request.length ?? 0) > 0;

const isUtf8Json = (ctx: BodyContext): boolean => {
  const charset = ctx.request.charset.toLowerCase();
  return ctx.is('application/json', '+json') !== false && (charset === '' || charset === 'utf-8');
};

/**
 * The body's bytes, read at most once per request (a signature check and the route's parser
 * share them through ctx.state.rawBody); null after answering 413/415/400.
 */
export const readBodyOnce = async (ctx: BodyContext, bytesMax: number): Promise<Buffer | null> => {
  const bytes = hasBody(ctx) ? await readBytes(ctx, bytesMax) : Buffer.alloc(0);
  if (bytes !== null) ctx.state.rawBody = bytes;
  return bytes;
};

/** The body's bytes, or null after answering 413/415/400 (the handler chain stops there). */
const readBytes = async (ctx: BodyContext, bytesMax: number): Promise<Buffer | null> => {
  const alreadyRead = ctx.state.rawBody;
  if (alreadyRead !== undefined)
    return alreadyRead.length > bytesMax ? refuseTooLarge(ctx, bytesMax) : alreadyRead;
  const encoding = ctx.get('Content-Encoding').toLowerCase();
  if (encoding !== '' && encoding !== 'identity') {
    sendError(ctx, 'unsupported_media_type', { msg: 'Content-Encoding is not supported' });
    return null;
  }
  const announcedBytes = ctx.request.length;
  if (announcedBytes !== undefined && announcedBytes > bytesMax) {
    return refuseTooLarge(ctx, bytesMax);
  }
  try {
    return await getRawBody(ctx.req, { length: announcedBytes ?? null, limit: bytesMax });
  } catch (error: unknown) {
    const type = typeof error === 'object' && error !== null && 'type' in error ? error.type : null;
    if (type === 'entity.too.large') return refuseTooLarge(ctx, bytesMax);
    if (type === 'request.size.invalid' || type === 'request.aborted') {
      sendError(ctx, 'invalid_request', { msg: 'the body could not be read completely' });
      return null;
    }
    throw error;
  }
};

/** Closing the connection spares us draining an oversized body we will never read. */
const refuseTooLarge = (ctx: BodyContext, bytesMax: number): null => {
  sendError(ctx, 'payload_too_large', { msg: `body exceeds ${bytesMax} bytes` });
  ctx.set('Connection', 'close');
  return null;
};

/** Fatal decoding: invalid UTF-8 is malformed, not silently replaced with U+FFFD. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const parseJson = (bytes: Buffer): { ok: true; value: unknown } | { ok: false } => {
  try {
    return { ok: true, value: JSON.parse(utf8.decode(bytes)) as unknown };
  } catch {
    return { ok: false };
  }
};
