import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  ProxyTracerProvider,
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
  ATTR_HTTP_ROUTE,
  ATTR_URL_PATH,
} from '@opentelemetry/semantic-conventions';
import { matchedRouteOf, type AppMiddleware } from './api-state';

const TRACER_NAME = 'ledger-service';
const propagator = new W3CTraceContextPropagator();

/** The W3C traceparent naming a span (the propagator's own format), or null for a no-op span. */
export const traceparentOf = (span: Span): string | null => {
  const carrier: Record<string, string> = {};
  propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
  return carrier['traceparent'] ?? null;
};

/**
 * Whether a tracing SDK is registered (bin/tracing.ts's, or a test's own). Without one every span
 * is the API's no-op: nothing is recorded, and a span carries only an inbound traceparent.
 */
export const tracingSdkRegistered = (): boolean => {
  const provider = trace.getTracerProvider();
  return (
    !(provider instanceof ProxyTracerProvider) ||
    provider.getDelegateTracer(TRACER_NAME) !== undefined
  );
};

/**
 * A server span per request, child of the caller's W3C `traceparent` when one is sent (a
 * malformed one is ignored: a new trace starts). The answer's `traceparent` header names the
 * server span, so a caller can find its request in the traces. Outermost, so that every log line
 * of the request, the access log's included, carries the trace id. Without a tracing SDK the
 * span is the API's no-op, which only passes an inbound traceparent through; with neither an SDK
 * nor an inbound traceparent there is nothing to do, and no span is made.
 */
export const traceRequests = (): AppMiddleware => {
  // A proxy: it follows an SDK registered later (bin/tracing.ts), and is the no-op until then.
  const tracer = trace.getTracer(TRACER_NAME);
  const traced: AppMiddleware = async (ctx, next) => {
    const parent = propagator.extract(ROOT_CONTEXT, ctx.headers, defaultTextMapGetter);
    const span = tracer.startSpan(
      `${ctx.method}`,
      {
        kind: SpanKind.SERVER,
        attributes: { [ATTR_HTTP_REQUEST_METHOD]: ctx.method, [ATTR_URL_PATH]: ctx.path },
      },
      parent,
    );
    // A malformed inbound traceparent and no SDK: the span is the invalid no-op, with nothing to
    // pass on, name or end.
    if (!isSpanContextValid(span.spanContext())) return next();
    const traceparent = traceparentOf(span);
    if (traceparent !== null) ctx.set('traceparent', traceparent);
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      const route = matchedRouteOf(ctx);
      if (route !== null) {
        span.updateName(`${ctx.method} ${route}`);
        span.setAttribute(ATTR_HTTP_ROUTE, route);
      }
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, ctx.status);
      if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    }
  };
  return (ctx, next) =>
    ctx.headers['traceparent'] === undefined && !tracingSdkRegistered()
      ? next()
      : traced(ctx, next);
};
