import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { EVENTS_FILE_NAME } from '../../bin/event-store';
import { eventuallyTrue } from '../support/eventually';
import { freePort, postJson, startServiceProcess } from '../support/service-process';

/**
 * `ledger backup` taken while concurrent transfers hit the running service, then `ledger
 * restore`: every transfer acknowledged at or before the backup's recorded head position is in
 * the restored log, nothing past it is, and the restore's own `audit verify` and `audit
 * balances` pass.
 */
const CLI = join(__dirname, '../../dist/bin/ledger.js');
const WALLET_COUNT = 10;
const CONCURRENCY = 8;

type Run = { exitCode: number | null; stdout: string; stderr: string };

const runCli = (args: readonly string[], env: Record<string, string>): Promise<Run> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    const err: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk.toString()));
    child.once('close', (exitCode) =>
      resolve({ exitCode, stdout: out.join(''), stderr: err.join('') }),
    );
  });

type Acknowledged = { transferId: string; position: bigint };

describe('backup under load, then restore', () => {
  jest.setTimeout(240_000);

  it('restores every transfer acknowledged up to the backup position and passes verify', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-backup-data-'));
    const backupDir = mkdtempSync(join(tmpdir(), 'ledger-backup-dir-'));
    const service = await startServiceProcess(dataDir, await freePort());
    try {
      await postJson(service.baseUrl, '/v1/accounts', { accountId: 'clearing', currency: 'EUR' });
      for (let index = 0; index < WALLET_COUNT; index += 1) {
        await postJson(service.baseUrl, '/v1/accounts', {
          accountId: `w${index}`,
          currency: 'EUR',
        });
      }
      const acknowledged: Acknowledged[] = [];
      let next = 0;
      let stopping = false;
      const worker = async (): Promise<void> => {
        while (!stopping) {
          const index = next++;
          const transferId = `t${index}`;
          const response = await postJson(service.baseUrl, '/v1/transfers', {
            transferId,
            debitAccountId: 'clearing',
            creditAccountId: `w${index % WALLET_COUNT}`,
            amountMinor: 1 + (index % 500),
            currency: 'EUR',
            mode: index % 4 === 0 ? 'two_phase' : 'single_phase',
          });
          expect(response.status).toBe(201);
          acknowledged.push({
            transferId,
            position: BigInt(String(response.body.data['position'])),
          });
        }
      };
      const workers = Array.from({ length: CONCURRENCY }, worker);
      await eventuallyTrue(() => acknowledged.length >= 200, {
        timeoutMs: 30_000,
        what: '200 transfers acknowledged before the backup',
      });
      const acknowledgedBeforeBackup = acknowledged.length;
      const backup = await runCli(['backup', '--dir', backupDir], { DATA_DIR: dataDir });
      const acknowledgedAtBackupEnd = acknowledged.length;
      await eventuallyTrue(() => acknowledged.length >= acknowledgedAtBackupEnd + 50, {
        timeoutMs: 30_000,
        what: 'more transfers acknowledged after the backup',
      });
      stopping = true;
      await Promise.all(workers);
      expect(backup).toMatchObject({ exitCode: 0 });
      const written = JSON.parse(backup.stdout) as {
        directory: string;
        manifest: {
          eventStoreHeadPosition: string;
          files: { name: string; kind: string; sha256: string }[];
        };
      };
      const head = BigInt(written.manifest.eventStoreHeadPosition);
      expect(written.manifest.files.map((file) => file.name)).toEqual(
        expect.arrayContaining([
          'service.sqlite',
          'read-models.sqlite',
          'audit-checkpoints.sqlite',
          'audit-signing-key.pem',
          'audit-public-key.pem',
          'sandbox-callback-secret',
          EVENTS_FILE_NAME,
        ]),
      );
      // The log is copied last (its head bounds every other store's checkpoints).
      expect(written.manifest.files[written.manifest.files.length - 1]?.name).toBe(
        EVENTS_FILE_NAME,
      );
      // Taken under load: some acknowledged before, some after the recorded position.
      const upToHead = acknowledged.filter((ack) => ack.position <= head);
      expect(upToHead.length).toBeGreaterThanOrEqual(acknowledgedBeforeBackup);
      expect(acknowledged.some((ack) => ack.position > head)).toBe(true);

      const restoredDir = join(mkdtempSync(join(tmpdir(), 'ledger-restore-')), 'data');
      const restore = await runCli(['restore', written.directory, '--data-dir', restoredDir], {});
      expect(restore.stderr).toContain('audit verify and audit balances pass');
      expect(restore).toMatchObject({ exitCode: 0 });
      expect(JSON.parse(restore.stdout)).toMatchObject({
        ok: true,
        eventStoreHeadPosition: String(head),
        audits: [
          { command: 'audit verify', exitCode: 0 },
          { command: 'audit balances', exitCode: 0 },
        ],
      });

      const restored = new Database(join(restoredDir, EVENTS_FILE_NAME), { readonly: true });
      try {
        const streams = new Set(
          (
            restored
              .prepare("SELECT DISTINCT stream FROM events WHERE stream LIKE 'transfer-%'")
              .all() as { stream: string }[]
          ).map((row) => row.stream),
        );
        const missing = upToHead.filter((ack) => !streams.has(`transfer-${ack.transferId}`));
        expect(missing).toEqual([]);
        const maxRow = restored.prepare('SELECT max(position) AS head FROM events').get() as {
          head: number;
        };
        expect(BigInt(maxRow.head)).toBe(head);
      } finally {
        restored.close();
      }

      // Refusals: a non-empty directory, a running service's directory, a damaged backup.
      const again = await runCli(['restore', written.directory, '--data-dir', restoredDir], {});
      expect(again.exitCode).not.toBe(0);
      expect(again.stderr).toContain('is not empty');
      const onService = await runCli(['restore', written.directory, '--data-dir', dataDir], {});
      expect(onService.exitCode).not.toBe(0);
      expect(onService.stderr).toContain('belongs to a service (serve.lock)');
      const damagedCopy = join(mkdtempSync(join(tmpdir(), 'ledger-damaged-')), 'backup');
      cpSync(written.directory, damagedCopy, { recursive: true });
      writeFileSync(join(damagedCopy, 'sandbox-callback-secret'), 'not the secret it was');
      const damaged = await runCli(
        ['restore', damagedCopy, '--data-dir', join(restoredDir, '..', 'other')],
        {},
      );
      expect(damaged.exitCode).not.toBe(0);
      expect(damaged.stderr).toContain('sandbox-callback-secret');
    } finally {
      service.child.kill('SIGTERM');
      await service.exited;
    }
  });
});
