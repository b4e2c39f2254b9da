import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  defaultTextMapSetter,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
} from '@opentelemetry/semantic-conventions';

/**
 * One HTTP exchange with a channel's API over node:http(s) (node:https takes the client
 * certificate WeChat v2 refunds need). Aborted by `signal` (the caller's timeout); the answer is
 * capped, a channel never sends megabytes.
 */
type HttpCall = {
  method: 'GET' | 'POST';
  url: string;
  headers: Readonly<Record<string, string>>;
  body: string | null;
  signal: AbortSignal;
  clientCertificate: { certPem: string; keyPem: string } | null;
};
export type HttpAnswer = {
  status: number;
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
};

const ANSWER_BYTES_MAX = 1024 * 1024;

/** The exchange failed below HTTP (refused, reset, aborted, oversized): always transient. */
export class HttpTransportError extends Error {
  override readonly name = 'HttpTransportError';
}

const TRACER_NAME = 'ledger-service';
const propagator = new W3CTraceContextPropagator();

/** The W3C traceparent naming a span (the propagator's own format), or null for a no-op span. */
const traceparentOf = (span: Span): string | null => {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier['traceparent'] ?? null;
};

/**
 * The exchange in a client span (child of the active one: the saga step or request that called
 * the channel), whose `traceparent` header goes along so that a channel which traces sees it.
 */
export const httpCall = (call: HttpCall): Promise<HttpAnswer> =>
  trace.getTracer(TRACER_NAME).startActiveSpan(
    `${call.method}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [ATTR_HTTP_REQUEST_METHOD]: call.method,
        [ATTR_SERVER_ADDRESS]: new URL(call.url).hostname,
      },
    },
    async (span) => {
      const traceparent = traceparentOf(span);
      const headers = traceparent === null ? call.headers : { ...call.headers, traceparent };
      try {
        const answer = await exchange({ ...call, headers });
        span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, answer.status);
        if (answer.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        return answer;
      } catch (error: unknown) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
        throw error;
      } finally {
        span.end();
      }
    },
  );

const exchange = (call: HttpCall): Promise<HttpAnswer> =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const url = new URL(call.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const tls =
      call.clientCertificate === null
        ? {}
        : { cert: call.clientCertificate.certPem, key: call.clientCertificate.keyPem };
    const outgoing = send(
      url,
      { method: call.method, headers: call.headers, signal: call.signal, ...tls },
      (answer) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        answer.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > ANSWER_BYTES_MAX)
            outgoing.destroy(new HttpTransportError('answer too large'));
          else chunks.push(chunk);
        });
        answer.on('end', () => {
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(answer.headers))
            headers[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({
            status: answer.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        answer.on('error', (error) =>
          reject(new HttpTransportError(error.message, { cause: error })),
        );
      },
    );
    outgoing.on('error', (error) =>
      reject(
        error instanceof HttpTransportError
          ? error
          : new HttpTransportError(error.message, { cause: error }),
      ),
    );
    outgoing.end(call.body ?? undefined);
  });

/** 5xx, 429 and 408 are worth a retry; other statuses are the channel's considered answer. */
export const isTransientStatus = (status: number): boolean =>
  status >= 500 || status === 429 || status === 408;
