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
 * the built service (`npm run build` first): sign in, verify, a balance at a position, the trail;
 * then a log whose last event of a stream was deleted, and the console names it. Screenshots go
 * to CONSOLE_SCREENSHOT_DIR or a temp dir (printed).
 */
const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const SHOTS =
  process.env['CONSOLE_SCREENSHOT_DIR'] ?? join(tmpdir(), `ledger-console-shots-${process.pid}`);

describe('the auditor console in a real browser', () => {
  jest.setTimeout(120_000);
  let dataDir: string;
  let service: ServiceProcess;
  let browser: Browser;
  let auditorKey: string;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    process.stdout.write(`console screenshots: ${SHOTS}\n`);
    dataDir = mkdtempSync(join(tmpdir(), 'ledger-console-'));
    service = await startServiceProcess(dataDir, await freePort());
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

    await page.click('#verify');
    await page.waitForSelector('#verify-result .ok');
    const verified = await page.textContent('#verify-result');
    expect(verified).toContain('OK');
    expect(verified).toMatch(/Latest signed checkpoint: 1 of /);

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

  it('names the broken place after the last event of a stream was deleted', async () => {
    service.child.kill('SIGTERM'); // A clean stop signs a last checkpoint.
    expect(await service.exited).toBe(0);
    const database = new Database(join(dataDir, 'events.sqlite'));
    const last = database
      .prepare(
        "SELECT position, revision FROM events WHERE stream = 'account-con-wallet' ORDER BY revision DESC LIMIT 1",
      )
      .get() as { position: number; revision: number };
    database.prepare('DELETE FROM events WHERE position = ?').run(last.position);
    database.close();
    service = await startServiceProcess(dataDir, await freePort());

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
    await page.screenshot({ path: join(SHOTS, 'console-tampered.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });
});
