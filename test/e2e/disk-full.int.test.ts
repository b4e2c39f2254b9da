import { execFileSync, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  rmSync,
  statfsSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually';
import {
  ADMIN_KEY,
  freePort,
  getJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

/**
 * The real service on a small tmpfs that fills up: a storage fault answers 503 (50302
 * `unavailable`), never 500; nothing answered 503 is applied (a batch is one atomic commit, so
 * none of its items is); reads keep answering; once space is freed the same process serves again,
 * a 503'd request retried with its Idempotency-Key executes, the books balance with no open
 * transfer, and SIGTERM exits 0.
 */
const TMPFS_SIZE_MB = 32;
/** Room left beside the filler so that the service still runs until transfers fill it. */
const FILLER_ROOM_BYTES = 2 * 1024 * 1024;
const FILLER_CHUNK_BYTES = 1024 * 1024;
const WALLET_COUNT = 4;
const FUNDING_MINOR = 100_000_000;
const BATCH_SIZE = 5;
/** Every BATCH_EVERY-th request is a batch. */
const BATCH_EVERY = 5;
const CONCURRENCY = 4;
const REQUEST_COUNT_MAX = 20_000;
const FILL_MS_MAX = 60_000;
/** Once the disk is full: stop after this many 503s, batches among them. */
const UNAVAILABLE_COUNT_ENOUGH = 30;
const UNAVAILABLE_BATCH_COUNT_ENOUGH = 3;
const RECOVERY_MS_MAX = 15_000;
const STOP_MS_MAX = 15_000;
const AUDIT_MS_MAX = 30_000;
const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');

type TransferBody = {
  transferId: string;
  debitAccountId: string;
  creditAccountId: string;
  amountMinor: number;
  currency: 'EUR';
};
type Sent = {
  path: '/v1/transfers' | '/v1/transfers/batch';
  key: string;
  body: TransferBody | { transfers: TransferBody[] };
  transferIds: string[];
};
type Answer = {
  status: number;
  code: number | null;
  retryAfter: string | null;
  replayed: boolean;
  /** data.position of a success: where the commit that made it durable lies in the log. */
  position: string | null;
};

/** Mounts a tmpfs at a fresh directory, or says why it cannot. */
/**
 * A small tmpfs to fill. Only a non-root run may skip (it cannot mount, and says so); as root,
 * which CI is, a mount that fails throws, so the test fails instead of hiding behind a skip.
 */
const mountTmpfs = (): { dir: string } | { reason: string } => {
  if (process.getuid?.() !== 0) return { reason: 'not root, so no tmpfs can be mounted' };
  const dir = mkdtempSync(join(tmpdir(), 'ledger-disk-full-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE_MB}m`, 'tmpfs', dir], {
      stdio: 'pipe',
      timeout: 10_000,
    });
    return { dir };
  } catch (error: unknown) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
};

const unmount = (dir: string): void => {
  const plain = spawnSync('umount', [dir], { stdio: 'pipe', timeout: 10_000 });
  if (plain.status !== 0) spawnSync('umount', ['-l', dir], { stdio: 'pipe', timeout: 10_000 });
  rmSync(dir, { recursive: true, force: true });
};

const send = async (baseUrl: string, path: string, key: string, body: unknown): Promise<Answer> => {
  const response = await fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_KEY}`,
      'idempotency-key': key,
      'content-type': 'application/json',
    },
    body: JSON.stringify(body),
  });
  const text = await response.text();
  let code: number | null = null;
  let position: string | null = null;
  try {
    const parsed = JSON.parse(text) as { code?: unknown; data?: { position?: unknown } };
    code = typeof parsed.code === 'number' ? parsed.code : null;
    position = typeof parsed.data?.position === 'string' ? parsed.data.position : null;
  } catch {
    code = null;
  }
  return {
    status: response.status,
    code,
    retryAfter: response.headers.get('retry-after'),
    replayed: response.headers.get('idempotent-replayed') === 'true',
    position,
  };
};

const resend = (baseUrl: string, sent: Sent): Promise<Answer> =>
  send(baseUrl, sent.path, sent.key, sent.body);

const walletId = (index: number): string => `w${index % WALLET_COUNT}`;

const transferBody = (transferId: string, index: number): TransferBody => ({
  transferId,
  debitAccountId: walletId(index),
  creditAccountId: walletId(index + 1 + (index % (WALLET_COUNT - 1))),
  amountMinor: 1 + (index % 9),
  currency: 'EUR',
});

const requestAt = (index: number): Sent => {
  if (index % BATCH_EVERY === BATCH_EVERY - 1) {
    const transfers = Array.from({ length: BATCH_SIZE }, (_, item) =>
      transferBody(`b${index}-${item}`, index + item),
    );
    return {
      path: '/v1/transfers/batch',
      key: `key-b${index}`,
      body: { transfers },
      transferIds: transfers.map((transfer) => transfer.transferId),
    };
  }
  return {
    path: '/v1/transfers',
    key: `key-t${index}`,
    body: transferBody(`t${index}`, index),
    transferIds: [`t${index}`],
  };
};

const tally = (answers: readonly Answer[]): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const { status, code } of answers) {
    const name = `${status}/${code ?? 'none'}`;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
};

/** Fills the file system but FILLER_ROOM_BYTES with one file; returns its size. */
const writeFiller = (path: string, dir: string): number => {
  const stats = statfsSync(dir);
  const fillerBytes = Math.max(0, stats.bavail * stats.bsize - FILLER_ROOM_BYTES);
  const chunk = Buffer.alloc(FILLER_CHUNK_BYTES, 0x5a);
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    while (written < fillerBytes) {
      written += writeSync(fd, chunk, 0, Math.min(chunk.length, fillerBytes - written));
    }
    return written;
  } finally {
    closeSync(fd);
  }
};

const mounted = mountTmpfs();

if ('reason' in mounted) {
  const SKIPPED = `disk-full e2e SKIPPED: ${mounted.reason} (needs root and tmpfs)`;
  process.stdout.write(`${SKIPPED}\n`);
  it.skip(SKIPPED, () => undefined);
} else {
  const dataDir = mounted.dir;
  let service: ServiceProcess | null = null;

  afterAll(async () => {
    if (service !== null && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
    unmount(dataDir);
  });

  describe('disk full (tmpfs DATA_DIR)', () => {
    jest.setTimeout(180_000);

    it('answers 503 not 500, applies nothing refused, recovers without a restart', async () => {
      const port = await freePort();
      const started = await startServiceProcess(dataDir, port);
      service = started;
      const { baseUrl } = started;
      // A read while the disk is full. A connection reset with the service still running (a
      // keep-alive socket the server closed as it was reused) is tried once more; a service that
      // exited fails the test with its output.
      const readWhileFull = (path: string): ReturnType<typeof getJson> =>
        getJson(baseUrl, path).catch((error: unknown) => {
          const { exitCode, signalCode } = started.child;
          if (exitCode !== null || signalCode !== null)
            throw new Error(
              `GET ${path}: ${String(error)}; the service exited (${exitCode ?? signalCode}):\n${started.output()}`,
            );
          return getJson(baseUrl, path);
        });
      const expectOk = async (what: string, path: string, body: unknown): Promise<void> => {
        const answer = await send(baseUrl, path, `setup-${what}`, body);
        expect([what, answer.status]).toEqual([what, 201]);
      };
      await expectOk('clearing', '/v1/accounts', { accountId: 'clearing', currency: 'EUR' });
      for (let index = 0; index < WALLET_COUNT; index += 1) {
        const accountId = walletId(index);
        await expectOk(accountId, '/v1/accounts', {
          accountId,
          currency: 'EUR',
          constraint: 'debits_must_not_exceed_credits',
        });
        await expectOk(`fund-${accountId}`, '/v1/transfers', {
          transferId: `fund-${accountId}`,
          debitAccountId: 'clearing',
          creditAccountId: accountId,
          amountMinor: FUNDING_MINOR,
          currency: 'EUR',
        });
      }

      const fillerPath = join(dataDir, 'filler.bin');
      const fillerBytes = writeFiller(fillerPath, dataDir);

      // Drive transfers until the disk is full and enough requests were refused for it.
      const answers: Answer[] = [];
      const acknowledged: Sent[] = [];
      const refused: Sent[] = [];
      const failures: string[] = [];
      let next = 0;
      let refusedBatchCount = 0;
      const fillDeadlineMs = Date.now() + FILL_MS_MAX;
      const enough = (): boolean =>
        refused.length >= UNAVAILABLE_COUNT_ENOUGH &&
        refusedBatchCount >= UNAVAILABLE_BATCH_COUNT_ENOUGH;
      const worker = async (): Promise<void> => {
        while (!enough() && next < REQUEST_COUNT_MAX && Date.now() < fillDeadlineMs) {
          const sent = requestAt(next++);
          try {
            const answer = await resend(baseUrl, sent);
            answers.push(answer);
            if (answer.status >= 200 && answer.status < 300) acknowledged.push(sent);
            if (answer.status === 503) {
              refused.push(sent);
              if (sent.path === '/v1/transfers/batch') refusedBatchCount += 1;
            }
          } catch (error: unknown) {
            failures.push(`${sent.key}: ${String(error)}`);
            return;
          }
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const fullAtMs = Date.now();
      const free = statfsSync(dataDir);
      const freeBytes = free.bavail * free.bsize;
      const retryAfters = new Set(answers.filter((a) => a.status === 503).map((a) => a.retryAfter));
      process.stdout.write(
        [
          `disk-full: filler ${fillerBytes} B, ${answers.length} requests`,
          `statuses ${JSON.stringify(tally(answers))}`,
          `503 batches ${refusedBatchCount}`,
          `Retry-After on 503 ${JSON.stringify([...retryAfters])}`,
          `free after ${freeBytes} B\n`,
        ].join(', '),
      );

      expect(failures).toEqual([]);
      expect(answers.filter((answer) => answer.status >= 500 && answer.status !== 503)).toEqual([]);
      expect(
        answers.filter((a) => !(a.status >= 200 && a.status < 300) && a.status !== 503),
      ).toEqual([]);
      expect(answers.filter((a) => a.status === 503 && a.code !== 50302)).toEqual([]);
      // Every 503 tells the client when to retry.
      expect([...retryAfters]).toEqual(['1']);
      expect(enough()).toBe(true);
      expect(freeBytes).toBeLessThan(FILLER_ROOM_BYTES);

      // Nothing refused with 503 was applied: not one item of a refused batch.
      for (const sent of refused) {
        for (const transferId of sent.transferIds) {
          const stored = await readWhileFull(`/v1/transfers/${transferId}`);
          expect([transferId, stored.status]).toEqual([transferId, 404]);
        }
      }
      // Reads keep answering while the disk is full.
      for (const accountId of [
        'clearing',
        ...Array.from({ length: WALLET_COUNT }, (_, i) => walletId(i)),
      ]) {
        const read = await readWhileFull(`/v1/accounts/${accountId}`);
        expect([accountId, read.status]).toEqual([accountId, 200]);
      }

      // Free the space: the same process serves again, and the refused requests execute now.
      unlinkSync(fillerPath);
      const freedAtMs = Date.now();
      const [probe, ...retries] = refused;
      if (probe === undefined) throw new Error('no request was refused');
      await eventually(
        async () => {
          const answer = await resend(baseUrl, probe);
          return answer.status === 503 ? undefined : answer;
        },
        {
          timeoutMs: RECOVERY_MS_MAX,
          what: 'a refused request to succeed once space is freed',
          intervalMs: 50,
        },
      );
      const recoveryMs = Date.now() - freedAtMs;
      const retried: { key: string; answer: Answer }[] = [];
      for (const sent of retries)
        retried.push({ key: sent.key, answer: await resend(baseUrl, sent) });
      const probeAgain = await resend(baseUrl, probe);
      const retriedStatuses = JSON.stringify(tally(retried.map((entry) => entry.answer)));
      process.stdout.write(
        `disk-full: full for ${freedAtMs - fullAtMs} ms, recovered ${recoveryMs} ms after the ` +
          `filler went; retries ${retriedStatuses}\n`,
      );
      const expectedStatus = (sent: Sent): number => (sent.path === '/v1/transfers' ? 201 : 200);
      for (const [index, sent] of retries.entries()) {
        const answer = retried[index]?.answer;
        expect([sent.key, answer?.status, answer?.replayed]).toEqual([
          sent.key,
          expectedStatus(sent),
          false,
        ]);
      }
      // The probe's first success is stored with its key: asking again replays it.
      expect([probeAgain.status, probeAgain.replayed]).toEqual([expectedStatus(probe), true]);
      for (const sent of refused) {
        for (const transferId of sent.transferIds) {
          const stored = await readWhileFull(`/v1/transfers/${transferId}`);
          expect([transferId, stored.status]).toEqual([transferId, 200]);
        }
      }

      // The read side (its worker may have died on the full disk) resumes past every retry.
      const positions = retried.map((entry) => BigInt(entry.answer.position ?? '0'));
      const lastPosition = positions.reduce((max, p) => (p > max ? p : max), 0n);
      expect(lastPosition).toBeGreaterThan(0n);
      await eventually(
        async () => {
          const query = await getJson(baseUrl, `/v1/transfers?after=${lastPosition}&page_size=1`);
          return query.status === 200 ? query : undefined;
        },
        { timeoutMs: RECOVERY_MS_MAX, what: 'the read side to pass the retries', intervalMs: 100 },
      );
      // How often the supervisor had to start the read side's worker again.
      const readSideRestartCount = started.output().split('read_side_worker_exited').length - 1;
      expect(started.output()).not.toContain('request_failed'); // What a 500 logs.
      started.child.kill('SIGTERM');
      const stopped = await eventually(
        () => (started.child.exitCode === null ? undefined : started.child.exitCode),
        { timeoutMs: STOP_MS_MAX, what: 'the service to exit on SIGTERM', intervalMs: 20 },
      );
      expect([stopped, started.child.signalCode]).toEqual([0, null]);

      const audit = spawnSync(process.execPath, [LEDGER_CLI, 'audit', 'balances', '--json'], {
        env: {
          ...process.env,
          DATA_DIR: dataDir,
          LEDGER_ADMIN_API_KEY: ADMIN_KEY,
          LOG_LEVEL: 'warn',
        },
        encoding: 'utf8',
        timeout: AUDIT_MS_MAX,
      });
      // stderr: only the command's last progress line.
      expect([audit.status, audit.stderr]).toEqual([
        0,
        expect.stringMatching(/^audit balances: done, \d+ events in [0-9.]+ s\n$/),
      ]);
      const report: unknown = JSON.parse(audit.stdout);
      process.stdout.write(
        `disk-full: read side restarted ${readSideRestartCount}x; ` +
          `audit ${JSON.stringify(report)}\n`,
      );
      expect(report).toMatchObject({ balanced: true, openTransferCount: 0 });

      // From the disk alone, after a restart: every transfer acknowledged before, during and
      // after the full disk is there.
      const second = await startServiceProcess(dataDir, await freePort());
      service = second;
      const missing: string[] = [];
      for (const sent of [...acknowledged, ...refused]) {
        for (const transferId of sent.transferIds) {
          const stored = await getJson(second.baseUrl, `/v1/transfers/${transferId}`);
          if (stored.status !== 200) missing.push(`${transferId}: ${stored.status}`);
        }
      }
      expect(missing).toEqual([]);
      second.child.kill('SIGTERM');
      const secondStopped = await eventually(
        () => (second.child.exitCode === null ? undefined : second.child.exitCode),
        {
          timeoutMs: STOP_MS_MAX,
          what: 'the restarted service to exit on SIGTERM',
          intervalMs: 20,
        },
      );
      expect(secondStopped).toBe(0);
    });
  });
}
