import autocannon from 'autocannon';
import { v7 as uuidv7 } from 'uuid';

/** One load run against one POST route; every request gets a fresh body and Idempotency-Key. */
export type LoadSpec = {
  baseUrl: string;
  path: string;
  apiKey: string;
  connections: number;
  durationS: number;
  /** Requests per second over all connections; absent: as fast as the server answers. */
  overallRate?: number;
  nextBody: () => string;
  /**
   * Per request instead: its method, path, client key and body (null: none), e.g. one node's
   * key and route after another; path, apiKey and nextBody then only fill the defaults.
   */
  nextRequest?: () => { method: 'GET' | 'POST'; path: string; apiKey: string; body: string | null };
  /** Hears every response with its latency (e.g. to compute percentiles autocannon lacks). */
  onResponse?: (statusCode: number, responseTimeMs: number) => void;
};

export type LoadFigures = {
  requests: number;
  durationS: number;
  /** Requests sent, answered before the load stopped or not (the server runs them all). */
  sentCount: number;
  /** 2xx responses per second. */
  throughputPerS: number;
  p50Ms: number;
  p99Ms: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  /** Count per HTTP status, to explain non-2xx. */
  statusCounts: Record<string, number>;
};

const REQUEST_TIMEOUT_S = 10;

export const runLoad = (spec: LoadSpec): Promise<LoadFigures> =>
  new Promise((resolve, reject) => {
    const options: autocannon.Options = {
      url: spec.baseUrl,
      connections: spec.connections,
      pipelining: 1,
      duration: spec.durationS,
      timeout: REQUEST_TIMEOUT_S,
      method: 'POST',
      headers: { authorization: `Bearer ${spec.apiKey}`, 'content-type': 'application/json' },
      requests: [
        {
          method: 'POST',
          path: spec.path,
          setupRequest: (request) => {
            const next = spec.nextRequest?.();
            if (next === undefined)
              return {
                ...request,
                headers: { ...request.headers, 'idempotency-key': uuidv7() },
                body: spec.nextBody(),
              };
            const headers = {
              ...request.headers,
              authorization: `Bearer ${next.apiKey}`,
              'idempotency-key': uuidv7(),
            };
            const { body: _ignored, ...rest } = request;
            return {
              ...rest,
              method: next.method,
              path: next.path,
              headers,
              ...(next.body === null ? {} : { body: next.body }),
            };
          },
        },
      ],
      ...(spec.overallRate === undefined ? {} : { overallRate: spec.overallRate }),
    };
    const instance = autocannon(options, (error, result) => {
      if (error !== null) return reject(error);
      const statusCounts = Object.fromEntries(
        Object.entries(result.statusCodeStats).map(([status, { count }]) => [status, count]),
      );
      resolve({
        requests: result.requests.total,
        durationS: result.duration,
        sentCount: result.requests.sent,
        throughputPerS: result['2xx'] / result.duration,
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        errors: result.errors,
        non2xx: result.non2xx,
        statusCounts,
      });
    });
    const { onResponse } = spec;
    if (onResponse !== undefined)
      instance.on('response', (_client, statusCode, _resBytes, responseTimeMs) =>
        onResponse(statusCode, responseTimeMs),
      );
  });

/** Runs task(0..count-1) with at most `concurrency` in flight; the first failure rejects. */
export const runBounded = async (
  count: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<void> => {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    // After a failure the other workers stop taking tasks: the caller is already unwinding.
    while (next < count && !failed) {
      const index = next;
      next += 1;
      await task(index).catch((error: unknown) => {
        failed = true;
        throw error;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
};

/** POSTs one JSON command with a fresh Idempotency-Key; throws unless the answer is 2xx. */
export const postCommand = async (
  baseUrl: string,
  apiKey: string,
  path: string,
  body: unknown,
): Promise<void> => {
  const headers = {
    authorization: `Bearer ${apiKey}`,
    'content-type': 'application/json',
    'idempotency-key': uuidv7(),
  };
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  }).catch((error: unknown) => {
    // fetch's own message is only 'fetch failed': the cause says refused, reset or timed out.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
    throw new Error(`POST ${path}: ${String(error)} ${cause}`.trim(), { cause: error });
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`POST ${path}: ${response.status} ${text.slice(0, 300)}`);
};
