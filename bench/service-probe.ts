import { performance } from 'node:perf_hooks';

/** What the bench reads from a running service between loads: its commits and its read side. */
const COMMITS_METRIC_NAME = 'ledger_event_store_commits_total';
const SYNCS_METRIC_NAME = 'ledger_event_store_syncs_total';
const CATCH_UP_POLL_MS = 50;
/** A pooled keep-alive socket the server has just closed fails a GET once: it is sent again. */
const GET_ATTEMPT_COUNT_MAX = 3;
const GET_RETRY_PAUSE_MS = 100;

export type ServiceAccess = { baseUrl: string; apiKey: string };
export type ReadSideLag = { eventsBehind: number; msBehind: number };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const get = async (service: ServiceAccess, path: string, attempt = 1): Promise<Response> => {
  const headers = { authorization: `Bearer ${service.apiKey}` };
  const response = await fetch(`${service.baseUrl}${path}`, { headers }).catch((error: unknown) => {
    if (attempt < GET_ATTEMPT_COUNT_MAX) return null;
    // fetch's own message is only 'fetch failed': the cause says refused, reset or timed out.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
    throw new Error(`GET ${path}: ${String(error)} ${cause}`.trim(), { cause: error });
  });
  if (response === null) {
    await sleep(GET_RETRY_PAUSE_MS);
    return get(service, path, attempt + 1);
  }
  if (!response.ok) throw new Error(`GET ${path}: ${response.status}`);
  return response;
};

/**
 * Durable event-store commits and fdatasyncs of its WAL so far (bin/event-store.ts counts
 * them), from GET /metrics.
 */
export const commitCount = async (
  service: ServiceAccess,
): Promise<{ commits: number; syncs: number }> => {
  const lines = (await (await get(service, '/metrics')).text()).split('\n');
  const valueOf = (name: string): number => {
    const line = lines.find((each) => each.startsWith(`${name} `));
    if (line === undefined) throw new Error(`GET /metrics: no ${name}`);
    return Number(line.slice(name.length + 1));
  };
  return { commits: valueOf(COMMITS_METRIC_NAME), syncs: valueOf(SYNCS_METRIC_NAME) };
};

/** How far the read side trails the log's head, as GET /v1/audit/read-side reports it. */
export const readSideLag = async (service: ServiceAccess): Promise<ReadSideLag> => {
  const body = (await (await get(service, '/v1/audit/read-side')).json()) as {
    data?: { lag?: Partial<ReadSideLag> };
  };
  const lag = body.data?.lag;
  if (typeof lag?.eventsBehind !== 'number' || typeof lag.msBehind !== 'number')
    throw new Error('GET /v1/audit/read-side: no lag.eventsBehind and lag.msBehind');
  return { eventsBehind: lag.eventsBehind, msBehind: lag.msBehind };
};

/** Ms until the read side has applied the whole log; null if it has not after timeoutMs. */
export const waitForReadSide = async (
  service: ServiceAccess,
  timeoutMs: number,
): Promise<number | null> => {
  const startedMs = performance.now();
  while (performance.now() - startedMs <= timeoutMs) {
    if ((await readSideLag(service)).eventsBehind === 0) return performance.now() - startedMs;
    await sleep(CATCH_UP_POLL_MS);
  }
  return null;
};
