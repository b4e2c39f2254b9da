// @types/autocannon is not installed: the part of autocannon 8's API the benchmarks use.
declare module 'autocannon' {
  namespace autocannon {
    /** The raw request a setupRequest callback receives and returns (built into bytes after). */
    type Request = {
      method?: string;
      path?: string;
      headers?: Record<string, string>;
      body?: string | Buffer;
    };
    type RequestSpec = Request & {
      /** Called before every request; returning a falsy value restarts the request sequence. */
      setupRequest?: (request: Request, context: Record<string, unknown>) => Request;
    };
    type Options = {
      url: string;
      connections?: number;
      pipelining?: number;
      /** Seconds. */
      duration?: number;
      /** Requests per second over all connections. */
      overallRate?: number;
      /** Seconds before a request counts as a timeout error. */
      timeout?: number;
      method?: string;
      headers?: Record<string, string>;
      requests?: RequestSpec[];
    };
    type Histogram = {
      p50: number;
      p90: number;
      p99: number;
      average: number;
      max: number;
      total: number;
    };
    type Result = {
      /** Seconds. */
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      '2xx': number;
      statusCodeStats: Record<string, { count: number }>;
      /** Milliseconds, of 2xx responses only. */
      latency: Histogram;
      requests: Histogram & { sent: number };
    };
    type Instance = {
      stop: () => void;
      /** Each response as it arrives; responseTimeMs is its latency. */
      on: (
        event: 'response',
        listener: (
          client: unknown,
          statusCode: number,
          resBytes: number,
          responseTimeMs: number,
        ) => void,
      ) => void;
    };
  }
  function autocannon(
    options: autocannon.Options,
    done: (error: Error | null, result: autocannon.Result) => void,
  ): autocannon.Instance;
  export = autocannon;
}
