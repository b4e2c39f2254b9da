import type { Command } from 'commander';
import { createReadSide, type RebuildLimit } from '../projections/read-side';
import { loadConfig, READ_SIDE_LIMITS } from './config';
import { openEventStore } from './event-store';
import { openReadModelStore } from './read-side';
import { rebuildSummary } from './audit-summaries';
import { longCommand, printResult, withProgress, type LongCommandOptions } from './cli-kit';

/** `ledger read-side rebuild|status`: rebuilds run beside a running service, which then switches. */
const withReadSide = async <T>(
  work: (readSide: ReturnType<typeof createReadSide>, head: bigint | null) => Promise<T>,
): Promise<T> => {
  const config = loadConfig(process.env);
  const eventStore = openEventStore(config);
  const store = await openReadModelStore({
    dataDir: config.dataDir,
    mongodbUrl: config.mongodbUrl,
  });
  const readSide = createReadSide({
    eventStore,
    store,
    limits: READ_SIDE_LIMITS,
    nowMs: Date.now,
    onError: (error) => process.stderr.write(`${String(error)}\n`),
  });
  try {
    return await work(readSide, await eventStore.headPosition());
  } finally {
    await store.close();
    await eventStore.close();
  }
};

type RebuildOptions = LongCommandOptions & { untilPosition?: string; untilTime?: string };

const limitOf = (options: { untilPosition?: string; untilTime?: string }): RebuildLimit => {
  if (options.untilPosition !== undefined && !/^[0-9]{1,20}$/.test(options.untilPosition))
    throw new Error('--until-position must be a log position');
  const untilMs = options.untilTime === undefined ? null : Date.parse(options.untilTime);
  if (untilMs !== null && Number.isNaN(untilMs))
    throw new Error('--until-time must be an ISO-8601 instant');
  return {
    untilPosition: options.untilPosition === undefined ? null : BigInt(options.untilPosition),
    untilTime: untilMs === null ? null : new Date(untilMs).toISOString(),
  };
};

export const registerReadSideCommands = (program: Command): void => {
  const readSide = program
    .command('read-side')
    .description('read models: rebuild, point-in-time snapshots, status');
  longCommand(
    readSide
      .command('rebuild')
      .description(
        'rebuild every read model into a new generation and switch to it (with --until-*: a point-in-time snapshot)',
      )
      .option('--until-position <position>', 'stop after this global position (snapshot)')
      .option(
        '--until-time <instant>',
        'stop after the last event at or before this instant (snapshot)',
      ),
  ).action(async (options: RebuildOptions) => {
    const limit = limitOf(options);
    const summary = await withReadSide((side, head) =>
      withProgress(
        options,
        { label: 'read-side rebuild', endPosition: limit.untilPosition ?? head },
        (onPage) => side.rebuild(limit, onPage),
      ),
    );
    printResult(options, summary, () => rebuildSummary(summary));
  });
  readSide
    .command('status')
    .description('generations and how far the live one is behind the log')
    .action(async () => {
      const status = await withReadSide(async (side, head) => {
        const generations = await side.generations();
        const checkpoints = await Promise.all(
          generations.map(async (record) => ({
            generation: record.generation,
            position: (await side.checkpointOf(record.generation))?.position.toString() ?? null,
          })),
        );
        return { headPosition: head?.toString() ?? null, generations, checkpoints };
      });
      process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    });
};
