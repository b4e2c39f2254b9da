import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ADMIN_KEY,
  freePort,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * Two service processes (each its own DATA_DIR, as the embedded store locks it) with
 * RATE_LIMIT_STORE=sqlite and one RATE_LIMIT_SQLITE_FILE: the admin client's requests to both
 * count against one limit, so the second instance refuses before its own share reaches it.
 */
const LIMIT = 10;
/** A cold start took 17 s on the shared 2-core machine at a load average of 22. */
const READY_TIMEOUT_MS = 60_000;

const listAccounts = async (service: ServiceProcess) => {
  const response = await fetch(`${service.baseUrl}/v1/accounts?page_size=1`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  const body = (await response.json()) as { code: number };
  return {
    status: response.status,
    code: body.code,
    retryAfter: response.headers.get('retry-after'),
  };
};

describe('a rate limit shared by two instances through one SQLite file', () => {
  jest.setTimeout(180_000);
  const root = mkdtempSync(join(tmpdir(), 'ledger-shared-limits-'));
  const services: ServiceProcess[] = [];

  beforeAll(async () => {
    const env = {
      RATE_LIMIT_STORE: 'sqlite',
      RATE_LIMIT_SQLITE_FILE: join(root, 'rate-limits.sqlite'),
      RATE_LIMIT_CLIENT: `${LIMIT}/300s`,
    };
    for (const name of ['a', 'b'])
      services.push(
        await startServiceProcess(join(root, name), await freePort(), env, {
          readyTimeoutMs: READY_TIMEOUT_MS,
        }),
      );
  });

  afterAll(async () => {
    for (const service of services) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    rmSync(root, { recursive: true, force: true });
  });

  it('answers 429 with Retry-After once the two instances together reach the limit', async () => {
    const [first, second] = services;
    if (first === undefined || second === undefined) throw new Error('services not started');
    const answers = [];
    for (let request = 0; request < 6; request += 1) answers.push(await listAccounts(first));
    for (let request = 0; request < 6; request += 1) answers.push(await listAccounts(second));
    expect(answers.map((answer) => answer.status)).toEqual([
      ...Array<number>(LIMIT).fill(200),
      429,
      429,
    ]);
    const refused = answers[LIMIT];
    expect(refused?.code).toBe(42940);
    expect(Number(refused?.retryAfter)).toBeGreaterThan(200);
  });
});
