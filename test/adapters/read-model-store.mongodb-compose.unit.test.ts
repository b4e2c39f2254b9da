import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { mongoClientOf } from '../../adapters/readmodels/mongodb.read-model-store';

/**
 * The compose stack's MongoDB, as far as it can be checked without Docker. The health check's
 * script runs with the two shell globals it uses (rs, quit) scripted; mongosh's exit status is
 * quit's code, 0 when the script ends without quit, and 1 when an error escapes the script. What
 * mongosh itself does (connecting, its rewriting of shell calls) is only checked by `docker
 * compose up`, which cannot run here.
 */
const ROOT = join(__dirname, '..', '..');
const SCRIPT_PATH = 'adapters/readmodels/mongodb-healthcheck.js';
const script = readFileSync(join(ROOT, SCRIPT_PATH), 'utf8');

class Exit {
  constructor(readonly code: number) {}
}

const runCheck = (status: () => unknown): { exitCode: number; initiated: unknown[] } => {
  const initiated: unknown[] = [];
  const rs = {
    status,
    initiate: (config: unknown) => {
      initiated.push(config);
      return { ok: 1 };
    },
  };
  const quit = (code = 0): never => {
    throw new Exit(code);
  };
  try {
    runInNewContext(script, { rs, quit });
    return { exitCode: 0, initiated };
  } catch (error: unknown) {
    return { exitCode: error instanceof Exit ? error.code : 1, initiated };
  }
};

const members =
  (...states: string[]) =>
  () => ({
    ok: 1,
    members: states.map((stateStr, index) => ({ _id: index, stateStr })),
  });
const failing = (code: number, codeName: string) => () => {
  throw Object.assign(new Error(codeName), { code, codeName });
};

describe("the compose stack's MongoDB", () => {
  it('initiates the set on the first start and stays unhealthy until the election', () => {
    expect(runCheck(failing(94, 'NotYetInitialized'))).toEqual({
      exitCode: 1,
      initiated: [{ _id: 'rs0', members: [{ _id: 0, host: 'mongodb:27017' }] }],
    });
  });

  it.each([['STARTUP'], ['STARTUP2'], ['SECONDARY'], ['RECOVERING'], ['OTHER']])(
    'exits 1 while the only member is %s',
    (state) => {
      expect(runCheck(members(state))).toEqual({ exitCode: 1, initiated: [] });
    },
  );

  it('exits 0 once a member is PRIMARY', () => {
    expect(runCheck(members('PRIMARY'))).toEqual({ exitCode: 0, initiated: [] });
    expect(runCheck(members('SECONDARY', 'PRIMARY'))).toEqual({ exitCode: 0, initiated: [] });
  });

  it('exits 1 on any other error, without initiating', () => {
    expect(runCheck(failing(13, 'Unauthorized'))).toEqual({ exitCode: 1, initiated: [] });
  });

  it('is what compose runs, for the set compose starts and the ledger uses', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const mount = new RegExp(`"\\./${SCRIPT_PATH.replace(/\./g, '\\.')}:([^:"]+):ro"`).exec(
      compose,
    );
    expect(mount).not.toBeNull();
    const mounted = mount?.[1] ?? '';
    expect(compose).toContain(`test: ["CMD", "mongosh", "--quiet", "${mounted}"]`);
    expect(compose).toContain('command: ["--replSet", "rs0", "--bind_ip_all"]');
    expect(compose).toContain('MONGODB_URL: "mongodb://mongodb:27017/ledger?replicaSet=rs0"');
  });

  it("connects the README's host URL directly, not via the member's compose name", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const hostUrl = /MONGODB_URL='([^']+)' npx jest test\/adapters\/read-model-store/.exec(
      readme,
    )?.[1];
    expect(hostUrl).toBeDefined();
    const operations = readFileSync(join(ROOT, 'docs', 'operations.md'), 'utf8');
    expect(operations).toContain(`MONGODB_URL='${hostUrl ?? ''}'`);
    const client = mongoClientOf({
      url: hostUrl ?? '',
      databaseName: 'ledger_read_models_contract',
    });
    try {
      expect(client.options.directConnection).toBe(true);
      expect(client.options.replicaSet).toBeUndefined();
      expect(client.options.hosts.map(String)).toEqual(['127.0.0.1:27017']);
    } finally {
      await client.close();
    }
    expect(script).toContain("host: 'mongodb:27017'");
  });
});
