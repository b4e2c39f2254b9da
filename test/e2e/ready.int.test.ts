import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { freePort, startServiceProcess, type ServiceProcess } from '../support/service-process';

/**
 * GET /v1/ready of the built service with NATS configured: 200 with every check passing, 503
 * `not_ready` naming the nats check while the server is down, 200 again once it is back; and
 * /v1/health stays 200 throughout (alive is not ready).
 */
type ReadyAnswer = {
  status: number;
  body: {
    code: number;
    msg: string;
    data: { checks: Record<string, string>; failing?: { check: string; reason: string }[] };
  };
};

const ready = async (service: ServiceProcess): Promise<ReadyAnswer> => {
  const response = await fetch(`${service.baseUrl}/v1/ready`);
  return { status: response.status, body: (await response.json()) as ReadyAnswer['body'] };
};

const SIGNAL_TIMEOUT_MS = 15_000;

describe('GET /v1/ready', () => {
  jest.setTimeout(60_000);
  let nats: NatsServer;
  let dataDir = '';
  let service: ServiceProcess;

  beforeAll(async () => {
    nats = await startNatsServer();
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-ready-'));
    service = await startServiceProcess(dataDir, await freePort(), { NATS_URL: nats.url });
  });

  afterAll(async () => {
    if (service.child.exitCode === null) service.child.kill('SIGKILL');
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('answers 200 when the store takes writes, the read side is current and NATS is connected', async () => {
    expect(await ready(service)).toEqual({
      status: 200,
      body: {
        code: 0,
        msg: 'ok',
        data: { status: 'ready', checks: { event_store: 'ok', read_side: 'ok', nats: 'ok' } },
      },
    });
  });

  it('answers 503 naming the nats check while NATS is down, and 200 once it is back', async () => {
    await nats.stop();
    const down = await eventually(
      async () => {
        const answer = await ready(service);
        return answer.status === 503 ? answer : undefined;
      },
      { timeoutMs: SIGNAL_TIMEOUT_MS, what: 'ready to fail with NATS down' },
    );
    expect(down.body).toEqual({
      code: 50304,
      msg: 'not ready: nats',
      data: {
        failing: [{ check: 'nats', reason: 'not connected' }],
        checks: { event_store: 'ok', read_side: 'ok', nats: 'failing' },
      },
    });
    expect((await fetch(`${service.baseUrl}/v1/health`)).status).toBe(200);

    await nats.restart();
    await eventually(async () => ((await ready(service)).status === 200 ? true : undefined), {
      timeoutMs: SIGNAL_TIMEOUT_MS,
      what: 'ready again once NATS is back',
    });
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
  });
});
