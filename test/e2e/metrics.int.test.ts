import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { eventually } from '../support/eventually';
import {
  ADMIN_KEY,
  freePort,
  getJson,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * GET /metrics of the built service, after transfers, a refusal, a replay, a payment completed by
 * a signed sandbox callback and a bad key, passes `promtool check metrics` (Debian's prometheus
 * package; .ci/run installs it, so a machine without it fails here instead of skipping) and holds
 * every family of docs/operations.md.
 */
const PROMTOOL = process.env['PROMTOOL_BIN'] ?? 'promtool';
const DASHBOARD_FILE = join(__dirname, '../../docs/grafana-dashboard.json');
/** The names a PromQL expression reads: a family, or a histogram's _bucket, _sum and _count. */
const SERIES_NAME = /\b(?:ledger|http|channel|process|nodejs)_[a-z_]+\b/g;

const promtool = (args: string[], input?: string): { status: number | null; output: string } => {
  const run = spawnSync(PROMTOOL, args, { input, encoding: 'utf8' });
  if (run.error !== undefined)
    throw new Error(
      `${PROMTOOL} did not run (${run.error.message}): install Debian's prometheus package, as .ci/run does`,
    );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
};
const SANDBOX_SECRET = 'metrics-test-sandbox-secret';

const FAMILIES = [
  'http_request_duration_seconds',
  'channel_callbacks_total',
  'ledger_event_store_commits_total',
  'ledger_event_store_syncs_total',
  'ledger_commands_total',
  'ledger_events_appended_total',
  'ledger_append_batch_events',
  'ledger_append_duration_seconds',
  'ledger_idempotency_replays_total',
  'ledger_idempotency_conflicts_total',
  'ledger_actors_in_memory',
  'ledger_mailbox_queued_commands',
  'ledger_projection_lag_events',
  'ledger_projection_lag_seconds',
  'ledger_relay_lag_events',
  'ledger_relay_lag_seconds',
  'ledger_sagas',
  'ledger_saga_step_retries_total',
  'ledger_dead_letters_total',
  'ledger_channel_calls_total',
  'ledger_channel_breaker_state',
  'ledger_auth_failures_total',
  'ledger_requests_refused_total',
  'ledger_payments_total',
  'ledger_payment_amount_minor_total',
  'ledger_status_ticket_failures_total',
  'ledger_payment_lookup_misses_total',
  'ledger_reconciliation_runs_total',
  'ledger_reconciliation_unresolved_differences',
  'ledger_data_dir_free_bytes',
  'ledger_data_dir_size_bytes',
  'process_cpu_seconds_total',
  'nodejs_active_handles',
];

const scrape = async (service: ServiceProcess): Promise<string> => {
  const response = await fetch(`${service.baseUrl}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  expect(response.status).toBe(200);
  return response.text();
};

const post = (service: ServiceProcess, path: string, key: string, body: unknown) =>
  fetch(`${service.baseUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      'idempotency-key': key,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });

describe('GET /metrics of the running service', () => {
  jest.setTimeout(60_000);
  let dataDir = '';
  let service: ServiceProcess;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-metrics-'));
    service = await startServiceProcess(dataDir, await freePort(), {
      SANDBOX_CALLBACK_SECRET: SANDBOX_SECRET,
    });
  });

  afterAll(async () => {
    if (service.child.exitCode === null) {
      service.child.kill('SIGTERM');
      await service.exited;
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('passes promtool and holds every family after real traffic', async () => {
    for (const accountId of ['clearing-sandbox', 'alice', 'shop'])
      expect(
        (await postJson(service.baseUrl, '/v1/accounts', { accountId, currency: 'EUR' })).status,
      ).toBe(201);
    const transfer = {
      transferId: 't-1',
      debitAccountId: 'clearing-sandbox',
      creditAccountId: 'alice',
      amountMinor: 5000,
      currency: 'EUR',
    };
    expect((await post(service, '/v1/transfers', 'transfer-1', transfer)).status).toBe(201);
    const replayed = await post(service, '/v1/transfers', 'transfer-1', transfer);
    expect(replayed.headers.get('idempotent-replayed')).toBe('true');
    const tooMuch = { ...transfer, transferId: 't-2', debitAccountId: 'alice', amountMinor: 1e9 };
    expect((await post(service, '/v1/transfers', 'transfer-2', tooMuch)).status).toBe(422);
    const unauthenticated = await fetch(`${service.baseUrl}/v1/accounts/alice`, {
      headers: { authorization: 'Bearer not-a-key-of-anyone' },
    });
    expect(unauthenticated.status).toBe(401);

    const created = await postJson(service.baseUrl, '/v1/payments', {
      merchantOrderNo: 'order-1',
      amountMinor: 1999,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'Top-up',
      creditAccountId: 'alice',
    });
    expect(created.status).toBe(201);
    const paymentId = String((created.body.data['payment'] as { paymentId: string }).paymentId);
    const raw = Buffer.from(
      JSON.stringify({
        event: 'payment.succeeded',
        paymentId,
        channelTransactionId: 'sandbox-tx-1',
        amountMinor: 1999,
        currency: 'EUR',
      }),
    );
    const callback = await fetch(`${service.baseUrl}/v1/channels/sandbox/callbacks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'sandbox-signature': signSandboxCallback(SANDBOX_SECRET, raw, Date.now()),
      },
      body: raw,
    });
    expect(callback.status).toBe(200);
    // A status request with a made-up ticket, and a lookup of an order that does not exist.
    const badTicket = await fetch(
      `${service.baseUrl}/v1/payments/${paymentId}/status?ticket=guess`,
    );
    expect(badTicket.status).toBe(401);
    const unknown = await getJson(service.baseUrl, `/v1/payments/${randomUUID()}`);
    expect(unknown.status).toBe(404);
    // An order never paid: at its deadline its expiry saga starts and expires it (a paid payment
    // has none), the signal the sagas' gauge waits on.
    const unpaid = await postJson(service.baseUrl, '/v1/payments', {
      merchantOrderNo: 'order-unpaid',
      amountMinor: 1,
      currency: 'EUR',
      channel: 'sandbox',
      subject: 'Top-up',
      creditAccountId: 'alice',
      expiresAt: new Date(Date.now() + 1500).toISOString(),
    });
    expect(unpaid.status).toBe(201);
    const text = await eventually(
      async () => {
        const scraped = await scrape(service);
        return scraped.includes('ledger_sagas{saga="payment_expiry",state="completed"} 1')
          ? scraped
          : undefined;
      },
      { timeoutMs: 20_000, what: "the unpaid order's expiry saga completed, in ledger_sagas" },
    );
    expect((await getJson(service.baseUrl, '/v1/ready')).status).toBe(200);

    expect(promtool(['check', 'metrics'], text)).toEqual({ status: 0, output: '' });

    for (const family of FAMILIES) expect(text).toMatch(new RegExp(`^# TYPE ${family} `, 'm'));
    expect(text).not.toMatch(/^nodejs_active_\w+_total/m);
    const freeBytes = Number(/^ledger_data_dir_free_bytes (\d+)$/m.exec(text)?.[1]);
    const sizeBytes = Number(/^ledger_data_dir_size_bytes (\d+)$/m.exec(text)?.[1]);
    expect(freeBytes).toBeGreaterThan(0);
    expect(sizeBytes).toBeGreaterThanOrEqual(freeBytes);
    const samples = [
      // t-1 and the credit committed with the payment's success.
      'ledger_commands_total{aggregate="ledger",command="CreateTransfer",outcome="accepted"} 2',
      'ledger_commands_total{aggregate="ledger",command="CreateTransfer",outcome="rejected"} 1',
      'ledger_commands_total{aggregate="saga",command="StartSaga",outcome="accepted"}',
      'ledger_events_appended_total{category="transfer"}',
      'ledger_idempotency_replays_total{store="event_store"} 1',
      'ledger_auth_failures_total{reason="unknown_credential"} 1',
      'ledger_channel_calls_total{channel="sandbox",operation="create_order",outcome="succeeded"} 2',
      'ledger_channel_breaker_state{channel="sandbox",state="closed"} 1',
      'channel_callbacks_total{channel="sandbox",outcome="applied"} 1',
      'ledger_payments_total{channel="sandbox",outcome="created"} 2',
      'ledger_payments_total{channel="sandbox",outcome="succeeded"} 1',
      'ledger_payment_amount_minor_total{channel="sandbox",currency="EUR",outcome="created"} 2000',
      'ledger_payment_amount_minor_total{channel="sandbox",currency="EUR",outcome="succeeded"} 1999',
      'ledger_status_ticket_failures_total{reason="malformed"} 1',
      'ledger_payment_lookup_misses_total{client="admin"} 1',
      'ledger_projection_lag_events{projection="accounts"}',
      'ledger_actors_in_memory{kind="ledger_stream"}',
      'ledger_mailbox_queued_commands{mailbox="ledger"} 0',
      'ledger_relay_lag_events',
      // The name the LedgerReconciliationDifferences rule reads; 0 for a channel reconciled daily.
      'ledger_reconciliation_unresolved_differences{channel="sandbox"} 0',
    ];
    for (const sample of samples) expect(text).toContain(sample);

    // The dashboard: every expression parses (promtool check rules) and reads only families the
    // service exports.
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((match) => match[1]));
    const dashboard = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((panel) => panel.targets.map(({ expr }) => expr));
    expect(exprs.length).toBeGreaterThanOrEqual(dashboard.panels.length);
    for (const expr of exprs) {
      const names = [...expr.matchAll(SERIES_NAME)].map(([name]) =>
        name.replace(/_(bucket|sum|count)$/, ''),
      );
      expect({ expr, names: names.length > 0 }).toEqual({ expr, names: true });
      for (const name of names)
        expect({ expr, name, exported: exported.has(name) }).toEqual({
          expr,
          name,
          exported: true,
        });
    }
    const rulesFile = join(dataDir, 'dashboard-rules.yml');
    const rules = exprs.map(
      (expr, index) =>
        `      - record: dashboard:expr${index}\n        expr: ${JSON.stringify(expr)}`,
    );
    writeFileSync(rulesFile, `groups:\n  - name: dashboard\n    rules:\n${rules.join('\n')}\n`);
    const parsed = promtool(['check', 'rules', rulesFile]);
    expect({ status: parsed.status, output: parsed.output }).toMatchObject({ status: 0 });
  });
});
