import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogVerification } from '../../domain/audit/log-verifier';
import { eventually } from '../support/eventually';
import {
  freePort,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/** The built service (`npm run build` first) signs checkpoints by itself, and a last one at stop. */
const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');

const verify = (dataDir: string): { status: number | null; report: LogVerification } => {
  const outcome = spawnSync(process.execPath, [LEDGER_CLI, 'audit', 'verify', '--json'], {
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
  });
  return { status: outcome.status, report: JSON.parse(outcome.stdout) as LogVerification };
};

/** The verify report once its latest checkpoint covers `position` (and verify exits 0). */
const checkpointAt = (dataDir: string, position: string, what: string) =>
  eventually(
    () => {
      const { status, report: found } = verify(dataDir);
      return status === 0 && found.latestCheckpoint?.headPosition === position ? found : undefined;
    },
    { timeoutMs: 20_000, what, intervalMs: 200 },
  );

describe('the service signs checkpoints of its log', () => {
  jest.setTimeout(180_000);
  let dataDir: string;
  let service: ServiceProcess | null = null;
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-signing-'));
  });
  afterEach(() => {
    service?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('every AUDIT_CHECKPOINT_INTERVAL_MS once the log moved, with a key of mode 0600', async () => {
    service = await startServiceProcess(
      dataDir,
      await freePort(),
      { AUDIT_CHECKPOINT_INTERVAL_MS: '100' },
      { readyTimeoutMs: 90_000 }, // A loaded machine starts the service slowly.
    );
    const opened = await postJson(service.baseUrl, '/v1/accounts', {
      accountId: 'signed-a',
      currency: 'EUR',
    });
    expect(opened.status).toBe(201);
    const position = String(opened.body.data['position']);
    const report = await checkpointAt(dataDir, position, 'a checkpoint at the account opening');
    expect(report).toMatchObject({ ok: true, findings: [] });
    expect(statSync(join(dataDir, 'audit-signing-key.pem')).mode & 0o777).toBe(0o600);
  });

  it('every AUDIT_CHECKPOINT_EVERY_EVENTS appended events, with the interval an hour away', async () => {
    service = await startServiceProcess(
      dataDir,
      await freePort(),
      { AUDIT_CHECKPOINT_INTERVAL_MS: '3600000', AUDIT_CHECKPOINT_EVERY_EVENTS: '1' },
      { readyTimeoutMs: 90_000 },
    );
    const opened = await postJson(service.baseUrl, '/v1/accounts', {
      accountId: 'signed-c',
      currency: 'EUR',
    });
    expect(opened.status).toBe(201);
    const position = String(opened.body.data['position']);
    // Only the count can sign this one while the service runs (the timer is an hour away).
    const report = await checkpointAt(
      dataDir,
      position,
      'a checkpoint by count at the account opening',
    );
    expect(report).toMatchObject({ ok: true, findings: [] });
  });

  it('signs a last checkpoint as it stops, so the tail written just before is anchored', async () => {
    service = await startServiceProcess(
      dataDir,
      await freePort(),
      { AUDIT_CHECKPOINT_INTERVAL_MS: '3600000' },
      { readyTimeoutMs: 90_000 },
    );
    const opened = await postJson(service.baseUrl, '/v1/accounts', {
      accountId: 'signed-b',
      currency: 'EUR',
    });
    expect(opened.status).toBe(201);
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    service = null;
    const { status, report } = verify(dataDir);
    expect(status).toBe(0);
    expect(report.latestCheckpoint?.headPosition).toBe(String(opened.body.data['position']));
  });
});
