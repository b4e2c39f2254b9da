import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { appendSandboxJournal } from '../../adapters/channels/sandbox.journal';
import { createSqliteSandboxStore } from '../../adapters/channels/sqlite.sandbox-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { createSqliteEventStore } from '../../adapters/eventstore/sqlite.event-store';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import { registerChannelCommands } from '../../bin/reconcile-cli';
import { parseFlatXml, verifyWechatV2Sign } from '../../adapters/channels/wechat/wechat-v2.xml';
import { paymentAggregate } from '../../domain/payment/payment.decider';
import { startFakeChannelServer } from '../adapters/channels/fake-channel-server';
import { createLedger, testContext } from '../support/ledger-harness';

const paymentId = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b';

describe('ledger reconcile and ledger sandbox statement', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reconcile-cli-'));
  const saved = { dataDir: process.env['DATA_DIR'], exitCode: process.exitCode };
  let output = '';
  beforeAll(async () => {
    process.env['DATA_DIR'] = dir;
    const store = createSqliteEventStore({ path: join(dir, EVENTS_FILE_NAME) });
    const { runtime } = createLedger(store);
    const terms = {
      paymentId,
      merchantId: 'm',
      merchantOrderNo: 'o',
      amountMinor: 500,
      currency: 'EUR',
      channel: 'sandbox' as const,
      subject: 's',
      creditAccountId: 'a',
      expiresAt: '2030-01-01T00:00:00.000Z',
      now: '2026-11-22T10:00:00.000Z',
    };
    await runtime.execute(
      paymentAggregate,
      paymentId,
      { type: 'CreatePayment', data: terms },
      testContext(),
    );
    await runtime.close();
    await store.close();
  });
  beforeEach(() => {
    output = '';
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += chunk.toString();
      return true;
    });
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(() => {
    if (saved.dataDir === undefined) delete process.env['DATA_DIR'];
    else process.env['DATA_DIR'] = saved.dataDir;
    process.exitCode = saved.exitCode;
  });

  const run = async (...args: string[]): Promise<void> => {
    const program = new Command('ledger').exitOverride();
    program.command('sandbox');
    registerChannelCommands(program);
    await program.parseAsync(['node', 'ledger', ...args]);
  };

  it('writes the sandbox statement from its journal and finds the planted discrepancy', async () => {
    appendSandboxJournal(dir, {
      paymentId,
      channelTransactionId: 'tx-planted',
      status: 'succeeded',
      amountMinor: 1,
      currency: 'EUR',
      occurredAt: '2026-11-22T10:01:00.000Z',
    });
    const statement = join(dir, 'statement.csv');
    await run('sandbox', 'statement', '--out', statement);
    await run('reconcile', statement, '--channel', 'sandbox');
    expect(output).toContain('status_mismatch');
    expect(process.exitCode).toBe(1);
    output = '';
    await run('reconcile', statement, '--json');
    expect(JSON.parse(output)).toMatchObject({
      statementRowCount: 1,
      discrepancies: [{ kind: 'status_mismatch', paymentId }],
    });
  });

  it("adds to the journal's rows what the sandbox's books know from verified callbacks, once", async () => {
    const database = openSqliteDatabase(join(dir, 'service.sqlite'));
    const books = createSqliteSandboxStore(database);
    const byHand = '0195a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a60';
    books.saveOrder({
      paymentId: byHand,
      amountMinor: 700,
      currency: 'EUR',
      status: 'succeeded',
      transactionId: 'hand-signed-1',
      updatedAt: '2026-11-22T10:02:00.000Z',
    });
    books.saveOrder({
      paymentId,
      amountMinor: 1,
      currency: 'EUR',
      status: 'succeeded',
      transactionId: 'tx-planted',
      updatedAt: '2026-11-22T10:01:00.000Z',
    });
    database.close();
    await run('sandbox', 'statement');
    const lines = output.trim().split('\n');
    expect(lines.slice(1).map((line) => line.split(',').slice(0, 2))).toEqual([
      [paymentId, 'tx-planted'],
      [byHand, 'hand-signed-1'],
    ]);
  });

  it('stops at a malformed statement naming the line', async () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'hello\n');
    await expect(run('reconcile', bad)).rejects.toThrow('line 1');
  });

  it('sends a WeChat v2 notification signed with the configured key; the same options send the same bytes', async () => {
    const server = await startFakeChannelServer();
    const wechat = {
      WECHAT_APP_ID: 'wx1',
      WECHAT_MCH_ID: 'm1',
      WECHAT_NOTIFY_URL: 'n',
      WECHAT_API_KEY: 'k'.repeat(32),
    };
    Object.assign(process.env, wechat);
    try {
      server.answer(() => ({ status: 200, body: '<xml><return_code>SUCCESS</return_code></xml>' }));
      await run('wechat-notify', paymentId, '500', '--url', server.baseUrl);
      await run('wechat-notify', paymentId, '500', '--url', server.baseUrl);
      const [first, second] = server.requests;
      const fields = parseFlatXml(first?.body ?? '');
      expect(
        fields.ok && verifyWechatV2Sign(fields.fields, wechat.WECHAT_API_KEY, 'HMAC-SHA256'),
      ).toBe(true);
      expect([first?.url, second?.body === first?.body]).toEqual([
        '/v1/channels/wechat/callbacks',
        true,
      ]);
      expect(output).toContain('HTTP 200');
    } finally {
      for (const name of Object.keys(wechat)) delete process.env[name];
      await server.close();
    }
  });
});
