import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  acquireDataDirLock,
  DATA_DIR_LOCK_FILE_NAME,
  DataDirLockedError,
} from '../../bin/data-dir-lock';
import {
  ADMIN_KEY,
  freePort,
  postJson,
  startServiceProcess,
  type ServiceProcess,
} from '../support/service-process';

const LEDGER_CLI = join(__dirname, '../../dist/bin/ledger.js');

const madeDirs: string[] = [];
const freshDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'ledger-lock-'));
  madeDirs.push(dir);
  return dir;
};
afterAll(() => madeDirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

/** The pid of a process that has exited and been reaped. */
const deadPid = (): number => {
  const { pid } = spawnSync(process.execPath, ['-e', '']);
  if (pid === undefined) throw new Error('no child pid');
  return pid;
};

const lockedError = (work: () => unknown): DataDirLockedError => {
  try {
    work();
  } catch (error: unknown) {
    if (error instanceof DataDirLockedError) return error;
    throw error;
  }
  throw new Error('expected DataDirLockedError');
};

describe('acquireDataDirLock', () => {
  it('refuses a second acquisition, naming the pid that holds the lock', () => {
    const dir = freshDir();
    const lock = acquireDataDirLock(dir);
    const refused = lockedError(() => acquireDataDirLock(dir));
    expect(refused.holderPid).toBe(process.pid);
    expect(refused.message).toContain(`process ${process.pid}`);
    lock.release();
  });

  it('takes over a lock left by a dead process, leaving no other file behind', () => {
    const dir = freshDir();
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE_NAME), `${deadPid()}\n`);
    const lock = acquireDataDirLock(dir);
    expect(readFileSync(lock.path, 'utf8')).toBe(`${process.pid}\n`);
    expect(readdirSync(dir)).toEqual([DATA_DIR_LOCK_FILE_NAME]);
    lock.release();
  });

  it('takes over our own pid when this process does not hold it (a restarted pid 1)', () => {
    const dir = freshDir();
    writeFileSync(join(dir, DATA_DIR_LOCK_FILE_NAME), `${process.pid}\n`);
    const lock = acquireDataDirLock(dir);
    expect(() => acquireDataDirLock(dir)).toThrow(DataDirLockedError);
    lock.release();
  });

  it('frees the directory on release', () => {
    const dir = freshDir();
    const first = acquireDataDirLock(dir);
    first.release();
    expect(existsSync(first.path)).toBe(false);
    const second = acquireDataDirLock(dir);
    expect(existsSync(second.path)).toBe(true);
    second.release();
  });
});

type Exited = { code: number | null; stderr: string };

const serveUntilExit = (dataDir: string, port: number): Promise<Exited> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [LEDGER_CLI, 'serve'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LEDGER_ADMIN_API_KEY: ADMIN_KEY,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const chunks: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
    child.once('exit', (code) => resolve({ code, stderr: chunks.join('') }));
  });

const ledgerCli = (dataDir: string, ...args: string[]) =>
  spawnSync(process.execPath, [LEDGER_CLI, ...args], {
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
  });

/** Needs `npm run build` first: these run the built CLI. */
describe('ledger serve on a locked DATA_DIR', () => {
  jest.setTimeout(60_000);
  const running: ServiceProcess[] = [];
  afterEach(() => running.splice(0).forEach((service) => service.child.kill('SIGKILL')));

  it('exits 2 naming the holder, while the audit commands read beside the service', async () => {
    const dataDir = freshDir();
    const first = await startServiceProcess(dataDir, await freePort());
    running.push(first);
    const opened = await postJson(first.baseUrl, '/v1/accounts', {
      accountId: 'lock-a',
      currency: 'EUR',
    });
    expect(opened.status).toBe(201);

    const second = await serveUntilExit(dataDir, await freePort());
    expect(second.code).toBe(2);
    expect(second.stderr).toContain(`in use by process ${String(first.child.pid)}`);

    const balances = ledgerCli(dataDir, 'audit', 'balances', '--json');
    expect(balances.status).toBe(0);
    const report = JSON.parse(balances.stdout) as { balanced: boolean; eventCount: number };
    expect(report.balanced).toBe(true);
    expect(report.eventCount).toBeGreaterThan(0);
    expect(ledgerCli(dataDir, 'audit', 'verify').status).toBe(0);

    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(join(dataDir, DATA_DIR_LOCK_FILE_NAME))).toBe(false);
  });

  it('starts on a DATA_DIR whose previous service was killed with -9', async () => {
    const dataDir = freshDir();
    const killed = await startServiceProcess(dataDir, await freePort());
    running.push(killed);
    killed.child.kill('SIGKILL');
    await killed.exited;
    expect(readFileSync(join(dataDir, DATA_DIR_LOCK_FILE_NAME), 'utf8')).toBe(
      `${String(killed.child.pid)}\n`,
    );

    const next = await startServiceProcess(dataDir, await freePort());
    running.push(next);
    expect(readFileSync(join(dataDir, DATA_DIR_LOCK_FILE_NAME), 'utf8')).toBe(
      `${String(next.child.pid)}\n`,
    );
  });
});
