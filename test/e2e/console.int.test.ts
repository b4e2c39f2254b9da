import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { chromium, type Browser, type Page } from 'playwright-core';
import {
  freePort,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * The auditor console in headless Chromium (Debian's `chromium`, which .ci/run installs) against
 * the built service (`npm run build` first): sign in, the totals with Σ = 0 and the daily volume
 * chart, the latest checkpoint, a stream's events with their hashes, verify, a balance at a
 * position, the trail; then a log with an edited event and a stream's last event deleted, and the
 * console names both. Screenshots go
 * to CONSOLE_SCREENSHOT_DIR or a temp dir (printed).
 */
const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** A loaded CI machine starts the service slowly; the browser steps are not timed by it. */
const START = { readyTimeoutMs: 90_000 };
const SHOTS =
  process.env['CONSOLE_SCREENSHOT_DIR'] ?? join(tmpdir(), `ledger-console-shots-${process.pid}`);

describe('the auditor console in a real browser', () => {
  jest.setTimeout(300_000);
  let dataDir: string;
  let service: ServiceProcess;
  let browser: Browser;
  let auditorKey: string;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    process.stdout.write(`console screenshots: ${SHOTS}\n`);
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-console-'));
    service = await startServiceProcess(dataDir, await freePort(), {}, START);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const created = await postJson(service.baseUrl, '/v1/clients', {
      clientId: 'auditor-1',
      role: 'auditor',
    });
    expect(created.status).toBe(201);
    auditorKey = String(created.body.data['apiKey']);
  });
  afterAll(async () => {
    await browser?.close();
    service?.child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  const openConsole = async (): Promise<{ page: Page; errors: string[] }> => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    page.on('pageerror', (error) => errors.push(String(error)));
    const response = await page.goto(`${service.baseUrl}/console`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    return { page, errors };
  };
  const signIn = async (page: Page, key: string) => {
    await page.fill('#api-key', key);
    await page.click('#sign-in button[type=submit]');
  };

  it('signs in, verifies the log, shows a balance at a position and the trail', async () => {
    for (const accountId of ['con-clearing', 'con-wallet'])
      await postJson(service.baseUrl, '/v1/accounts', { accountId, currency: 'EUR' });
    const funded = await postJson(service.baseUrl, '/v1/transfers', {
      transferId: 'con-1',
      debitAccountId: 'con-clearing',
      creditAccountId: 'con-wallet',
      amountMinor: 1000,
      currency: 'EUR',
    });
    const position = String(funded.body.data['position']);
    await postJson(service.baseUrl, '/v1/transfers', {
      transferId: 'con-2',
      debitAccountId: 'con-clearing',
      creditAccountId: 'con-wallet',
      amountMinor: 5,
      currency: 'EUR',
    });
    const signed = spawnSync(process.execPath, [LEDGER_CLI, 'audit', 'checkpoint'], {
      env: { ...process.env, DATA_DIR: dataDir },
      encoding: 'utf8',
    });
    expect(signed.status).toBe(0);

    const { page, errors } = await openConsole();
    await signIn(page, 'not-a-key-0123456789abcdefgh');
    await page.waitForSelector('#sign-in-error:not(:empty)');
    expect(await page.textContent('#sign-in-error')).toMatch(/refused/i);
    await signIn(page, auditorKey);
    await page.waitForSelector('#console:not([hidden])');

    // Totals per currency, folded from the log: Σ = 0.
    await page.waitForSelector('#totals-status.ok');
    const totals = await page.textContent('#totals tbody');
    expect(totals).toContain('EUR');
    expect(totals).toContain('Σ = 0');
    expect(await page.textContent('#totals-status')).toMatch(/balanced \(Σ = 0/);
    // Today's bar of the EUR chart holds both transfers: 1000 + 5.
    const today = new Date().toISOString().slice(0, 10);
    const bar = await page.waitForSelector(
      `#volume-chart svg[data-currency=EUR] rect[data-day="${today}"]`,
    );
    expect(await bar.getAttribute('data-amount')).toBe('1005');
    await page.screenshot({ path: join(SHOTS, 'console-totals-chart.png'), fullPage: true });

    // The latest signed checkpoint, and the stream browser with the hashes.
    await page.waitForSelector('#checkpoint dd');
    expect(await page.textContent('#checkpoint')).toMatch(/Ed25519 signature/);
    await page.fill('#stream-category', 'account');
    await page.click('#streams-filter button[type=submit]');
    await page.click('#streams button:text("account-con-wallet")');
    await page.waitForSelector('#stream-events tbody tr');
    const rows = await page.$$eval('#stream-events tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    expect(rows.length).toBeGreaterThanOrEqual(3);
    expect(rows[0]?.[0]).toBe('0');
    expect(rows[0]?.[4]).toBe('(genesis)');
    expect(rows[0]?.[5]).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[1]?.[4]).toBe(rows[0]?.[5]); // Each event links to the hash before it.
    await page.screenshot({ path: join(SHOTS, 'console-streams.png'), fullPage: true });

    await page.click('#verify');
    await page.waitForSelector('#verify-result .ok');
    const verified = await page.textContent('#verify-result');
    expect(verified).toContain('OK');
    expect(verified).toMatch(/Latest signed checkpoint: \d+ of /); // The service may sign more.

    await page.fill('#account-id', 'con-wallet');
    await page.fill('#point', position);
    await page.click('#balance button[type=submit]');
    await page.waitForSelector('#balance-result p');
    expect(await page.textContent('#balance-result')).toContain('con-wallet: balance 1000 EUR');

    await page.click('#trail-load');
    await page.waitForSelector('#trail tbody tr');
    expect(await page.textContent('#trail tbody')).toContain('account-con-wallet');
    await page.screenshot({ path: join(SHOTS, 'console-verified.png'), fullPage: true });
    // The one 401 is the wrong key's sign-in; a CSP violation or a script error would show here.
    expect(errors).toEqual([expect.stringContaining('status of 401')]);
    await page.close();
  });

  it('names the first broken link and a deleted tail of a tampered log', async () => {
    service.child.kill('SIGTERM'); // A clean stop signs a last checkpoint.
    expect(await service.exited).toBe(0);
    const database = new Database(join(dataDir, 'events.sqlite'));
    const last = database
      .prepare(
        "SELECT position, revision FROM events WHERE stream = 'account-con-wallet' ORDER BY revision DESC LIMIT 1",
      )
      .get() as { position: number; revision: number };
    database.prepare('DELETE FROM events WHERE position = ?').run(last.position);
    // And one byte of an event in the middle of another stream: its chain breaks there.
    const edited = database
      .prepare(
        "SELECT position, data FROM events WHERE stream = 'account-con-clearing' AND revision = 1",
      )
      .get() as { position: number; data: string };
    database
      .prepare('UPDATE events SET data = ? WHERE position = ?')
      .run(edited.data.replace('1000', '1001'), edited.position);
    database.close();
    service = await startServiceProcess(dataDir, await freePort(), {}, START);

    const { page, errors } = await openConsole();
    await signIn(page, auditorKey);
    await page.waitForSelector('#console:not([hidden])');
    await page.click('#verify');
    await page.waitForSelector('#verify-result .failed');
    const result = await page.textContent('#verify-result');
    expect(result).toContain('FAILED');
    expect(result).toContain(
      `Tail missing: account-con-wallet revisions ${last.revision}..${last.revision}`,
    );
    expect(result).toContain('First broken link: account-con-clearing at revision 1');
    await page.waitForSelector('#last-verify .failed');
    expect(await page.textContent('#last-verify')).toContain(
      'first broken link account-con-clearing at revision 1',
    );
    await page.screenshot({ path: join(SHOTS, 'console-tampered.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
