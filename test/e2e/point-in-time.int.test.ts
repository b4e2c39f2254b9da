import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  freePort,
  getJson,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * The built service (`npm run build` first): an account's balance at a log position or instant,
 * folded from the log, equals what the read model showed when the read side was at that position.
 */
const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');

/**
 * The CLI without blocking the event loop: spawnSync for seconds lets the service close the
 * test's idle keep-alive socket unseen, and the next fetch fails on it.
 */
const ledgerCli = (dataDir: string, args: string[]): Promise<{ code: number; stdout: string }> =>
  new Promise((resolve) => {
    execFile(
      process.execPath,
      [LEDGER_CLI, ...args],
      { env: { ...process.env, DATA_DIR: dataDir } },
      (error, stdout) => resolve({ code: error === null ? 0 : Number(error.code ?? 1), stdout }),
    );
  });

type AccountView = Record<string, unknown> & { accountId: string; balanceMinor: number };

const VIEW_FIELDS = [
  'accountId',
  'currency',
  'status',
  'debitsPostedMinor',
  'creditsPostedMinor',
  'debitsPendingMinor',
  'creditsPendingMinor',
  'balanceMinor',
  'availableMinor',
  'pendingTransferCount',
] as const;
const fieldsOf = (view: Record<string, unknown>) =>
  Object.fromEntries(VIEW_FIELDS.map((field) => [field, view[field]]));

describe('point-in-time balances', () => {
  jest.setTimeout(180_000);
  let dataDir: string;
  let service: ServiceProcess;
  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-pit-'));
    // A loaded machine starts the service slowly.
    service = await startServiceProcess(dataDir, await freePort(), {}, { readyTimeoutMs: 90_000 });
  });
  afterAll(() => {
    service.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const transfer = async (transferId: string, from: string, to: string, amountMinor: number) => {
    const posted = await postJson(service.baseUrl, '/v1/transfers', {
      transferId,
      debitAccountId: from,
      creditAccountId: to,
      amountMinor,
      currency: 'EUR',
    });
    expect(posted.status).toBe(201);
    return String(posted.body.data['position']);
  };
  /** The wallet's read-model document once the read side has applied `position`. */
  const readModelAt = async (position: string): Promise<AccountView> => {
    const listed = await getJson(service.baseUrl, `/v1/accounts?after=${position}&page_size=100`);
    expect(listed.status).toBe(200);
    const items = listed.body.data['items'] as AccountView[];
    const wallet = items.find((item) => item.accountId === 'pit-wallet');
    if (wallet === undefined) throw new Error('pit-wallet not in the read model');
    return wallet;
  };
  const balanceAt = (query: string) =>
    getJson(service.baseUrl, `/v1/accounts/pit-wallet/balance?${query}`);

  it('equals the read model at each position, by position, by instant and on the CLI', async () => {
    for (const accountId of ['pit-clearing', 'pit-wallet'])
      expect(
        (await postJson(service.baseUrl, '/v1/accounts', { accountId, currency: 'EUR' })).status,
      ).toBe(201);
    const first = await transfer('pit-1', 'pit-clearing', 'pit-wallet', 1000);
    const seenFirst = await readModelAt(first);
    const second = await transfer('pit-2', 'pit-clearing', 'pit-wallet', 250);
    const seenSecond = await readModelAt(second);
    const third = await transfer('pit-3', 'pit-wallet', 'pit-clearing', 30);
    await readModelAt(third);
    expect(seenFirst.balanceMinor).toBe(1000);
    expect(seenSecond.balanceMinor).toBe(1250);

    for (const [position, seen] of [
      [first, seenFirst],
      [second, seenSecond],
    ] as const) {
      const answer = await balanceAt(`at=${position}`);
      expect(answer.status).toBe(200);
      expect(fieldsOf(answer.body.data['account'] as AccountView)).toEqual(fieldsOf(seen));
      expect(answer.body.data['position']).toBe(seen['position']);
      // The spelling, GET /v1/accounts/{id}?at=, answers the same (not today's balance).
      const plain = await getJson(service.baseUrl, `/v1/accounts/pit-wallet?at=${position}`);
      expect(plain.status).toBe(200);
      expect(plain.body.data).toEqual(answer.body.data);
    }
    const today = await getJson(service.baseUrl, '/v1/accounts/pit-wallet');
    expect((today.body.data['account'] as AccountView).balanceMinor).toBe(1220);
    // By instant: when the first credit occurred, the second had not.
    const entries = await getJson(
      service.baseUrl,
      `/v1/accounts/pit-wallet/entries?after=${third}&page_size=10`,
    );
    const firstEntry = (
      entries.body.data['items'] as { transferId: string; occurredAt: string }[]
    ).find((entry) => entry.transferId === 'pit-1');
    const byInstant = await balanceAt(`asOf=${firstEntry?.occurredAt ?? 'missing'}`);
    expect(byInstant.status).toBe(200);
    expect(fieldsOf(byInstant.body.data['account'] as AccountView)).toEqual(fieldsOf(seenFirst));

    const cli = spawnSync(
      process.execPath,
      [LEDGER_CLI, 'audit', 'balance', 'pit-wallet', '--at', second, '--json'],
      { env: { ...process.env, DATA_DIR: dataDir }, encoding: 'utf8' },
    );
    expect(cli.status).toBe(0);
    expect(fieldsOf(JSON.parse(cli.stdout).account as AccountView)).toEqual(fieldsOf(seenSecond));

    // Every account at once: `ledger audit balances --at` (and --as-of), Σ = 0 at that point.
    for (const [flag, value, seen] of [
      ['--at', second, seenSecond],
      ['--as-of', firstEntry?.occurredAt ?? 'missing', seenFirst],
    ] as const) {
      const all = await ledgerCli(dataDir, ['audit', 'balances', flag, value, '--json']);
      expect(all.code).toBe(0);
      const report = JSON.parse(all.stdout) as { accounts: AccountView[]; balanced: boolean };
      expect(report.balanced).toBe(true);
      const wallet = report.accounts.find((account) => account.accountId === 'pit-wallet');
      expect(fieldsOf(wallet ?? { accountId: 'missing' })).toEqual(fieldsOf(seen));
      const clearing = report.accounts.find((account) => account.accountId === 'pit-clearing');
      expect(clearing?.balanceMinor).toBe(-seen.balanceMinor);
    }
    const human = await ledgerCli(dataDir, ['audit', 'balances', '--at', first]);
    expect(human.stdout).toContain(`as the log stood at position ${first}:`);
    expect(human.stdout).toContain('pit-wallet: balance 1000 EUR');
  });

  it('answers 400 naming the problem and 404 before the account was opened', async () => {
    const neither = await balanceAt('');
    expect(neither.status).toBe(400);
    expect(JSON.stringify(neither.body)).toContain('exactly one of ?at=');
    expect((await balanceAt('at=1&asOf=2026-01-01T00:00:00Z')).status).toBe(400);
    expect((await balanceAt('at=abc')).status).toBe(400);
    expect((await balanceAt('asOf=yesterday')).status).toBe(400);
    const plainBad = await getJson(service.baseUrl, '/v1/accounts/pit-wallet?at=abc');
    expect(plainBad.status).toBe(400);
    expect(JSON.stringify(plainBad.body)).toContain('at');
    const plainBoth = '/v1/accounts/pit-wallet?at=1&asOf=2026-01-01T00:00:00Z';
    expect((await getJson(service.baseUrl, plainBoth)).status).toBe(400);
    expect((await balanceAt('asOf=2000-01-01T00:00:00Z')).status).toBe(404);
    const unknown = await getJson(service.baseUrl, '/v1/accounts/pit-nobody/balance?at=1');
    expect(unknown.status).toBe(404);
    const cli = spawnSync(process.execPath, [LEDGER_CLI, 'audit', 'balance', 'pit-wallet'], {
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    expect(cli.status).not.toBe(0);
    expect(cli.stderr).toContain('exactly one of --at and --as-of');
  });
});
