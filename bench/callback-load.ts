import { performance } from 'node:perf_hooks';

/**
 * The load generator of bench/channels.bench.ts, run as a child process (fork) so that its HTTP
 * client's CPU is not counted as the service's: it posts the deliveries it is sent over IPC, with
 * `concurrency` workers, and answers with the latencies, the failures and its own CPU time.
 */
export type LoadRequest = {
  url: string;
  deliveries: readonly { body: string; headers: Record<string, string> }[];
  concurrency: number;
};
export type LoadReply = {
  elapsedMs: number;
  /** Sorted ascending. */
  latenciesMs: number[];
  failures: number;
  cpuUs: number;
};

const run = async ({ url, deliveries, concurrency }: LoadRequest): Promise<LoadReply> => {
  let next = 0;
  let failures = 0;
  const latenciesMs: number[] = [];
  const worker = async (): Promise<void> => {
    for (let index = next++; index < deliveries.length; index = next++) {
      const delivery = deliveries[index];
      if (delivery === undefined) return;
      const sentMs = performance.now();
      const response = await fetch(url, {
        method: 'POST',
        headers: delivery.headers,
        body: delivery.body,
      });
      await response.arrayBuffer();
      latenciesMs.push(performance.now() - sentMs);
      if (response.status !== 200) failures += 1;
    }
  };
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - startedMs;
  const cpu = process.cpuUsage(cpuBefore);
  latenciesMs.sort((left, right) => left - right);
  return { elapsedMs, latenciesMs, failures, cpuUs: cpu.user + cpu.system };
};

process.on('message', (request: LoadRequest) => {
  run(request).then(
    (reply) => process.send?.(reply),
    (error: unknown) => {
      process.stderr.write(`callback load failed: ${String(error)}\n`);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
