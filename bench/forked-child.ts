import { fork } from 'node:child_process';
import { join } from 'node:path';

/**
 * A bench helper script (bench/callback-load.ts, bench/credit-load.ts) forked into a process of
 * its own: `ask` sends one request and resolves with the child's next message, or rejects if the
 * child exits first.
 */
export const forkChild = async <Request, Reply>(scriptName: string) => {
  const child = fork(join(__dirname, scriptName), [], { stdio: 'inherit' });
  await new Promise((resolve) => child.once('spawn', resolve));
  return {
    ask: (request: Request) =>
      new Promise<Reply>((resolve, reject) => {
        const exited = (code: number | null) =>
          reject(new Error(`${scriptName} exited with ${code}`));
        child.once('exit', exited);
        child.once('message', (reply) => {
          child.off('exit', exited);
          resolve(reply as Reply);
        });
        child.send(request as object);
      }),
    stop: () => child.disconnect(),
  };
};

/** Ends a forked child that cannot go on, saying why on the inherited stderr. */
export const exitChild = (name: string, error: unknown): never => {
  process.stderr.write(`${name} failed: ${String(error)}\n`);
  process.exit(1);
};

/**
 * The child's side of forkChild: the first request (kind 'prepare') is answered { kind: 'ready' }
 * once `prepare` resolves, the next ({ kind: 'run' }) with what `run` resolves to; a failure
 * ends the child, and so does the parent's disconnect.
 */
export const serveParent = <Prepare extends { kind: 'prepare' }, Prepared, Done>(
  name: string,
  prepare: (request: Prepare) => Promise<Prepared>,
  run: (prepared: Prepared) => Promise<Done>,
): void => {
  let prepared: Prepared | null = null;
  const fail = (error: unknown): void => void exitChild(name, error);
  const reply = (message: Done | { kind: 'ready' }): void => void process.send?.(message);
  process.on('message', (request: Prepare | { kind: 'run' }) => {
    if (request.kind === 'prepare') {
      prepare(request as Prepare).then((ready) => {
        prepared = ready;
        reply({ kind: 'ready' });
      }, fail);
      return;
    }
    if (prepared === null) return fail(new Error('run before prepare'));
    const current = prepared;
    prepared = null;
    run(current).then(reply, fail);
  });
  process.on('disconnect', () => process.exit(0));
};
