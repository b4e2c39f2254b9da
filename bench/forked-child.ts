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
