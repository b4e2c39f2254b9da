import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { openSignedCheckpointStore } from '../adapters/audit/sqlite.signed-checkpoint-store';
import { openSqliteDatabase } from '../adapters/sqlite/open-database';
import { CHECKPOINT_STREAM, parseSignedCheckpoint } from '../domain/audit/checkpoint-events';
import type { SignedCheckpoint, SignedCheckpointLog } from '../domain/audit/log-checkpoint';
import { createLogVerifier, type LogVerification } from '../domain/audit/log-verifier';
import { AssertionError } from '../domain/assert';
import { parseEventMetadata } from '../domain/event-metadata';
import type {
  EventStore,
  JsonObject,
  JsonValue,
  RecordedEvent,
} from '../domain/ports/event-store.port';
import { eventJsonLine, forEachEvent, type PageProgress } from '../projections/audit-toolkit';
import { writeCheckpoint, type CheckpointSigner } from '../projections/log-checkpoints';
import { dataDirPublicKeyFiles, loadCheckpointSigner, readPublicKeys } from './audit-keys';
import { verificationSummary } from './audit-summaries';
import { longCommand, printResult, withProgress, type LongCommandOptions } from './cli-kit';
import { loadConfig, type Config } from './config';
import { openEventStore } from './event-store';

/**
 * Signed checkpoints on the command line: `ledger audit checkpoint`, `ledger audit verify` (the
 * log against its chains and checkpoints, or an exported bundle offline) and the bundle written
 * by `ledger audit export --bundle`.
 */
export const AUDIT_CHECKPOINTS_FILE_NAME = 'audit-checkpoints.sqlite';
const BUNDLE_FORMAT = 'ledger-audit-bundle/1';

/** The checkpoint log of a data dir, open for `work`. */
const withCheckpointLog = async <T>(
  dataDir: string,
  work: (log: SignedCheckpointLog) => Promise<T>,
): Promise<T> => {
  const database = openSqliteDatabase(join(dataDir, AUDIT_CHECKPOINTS_FILE_NAME));
  try {
    return await work(openSignedCheckpointStore(database));
  } finally {
    database.close();
  }
};

const COPY_PAGE_EVENT_COUNT_MAX = 100;

/** The checkpoints the log holds as events (its own copies), in order; malformed ones skipped. */
const checkpointsInLog = async (store: EventStore): Promise<SignedCheckpoint[]> => {
  const found: SignedCheckpoint[] = [];
  for (let fromRevision = 0; ; fromRevision += COPY_PAGE_EVENT_COUNT_MAX) {
    const page = await store.readStream(CHECKPOINT_STREAM, {
      fromRevision,
      direction: 'forwards',
      eventCountMax: COPY_PAGE_EVENT_COUNT_MAX,
    });
    for (const event of page) {
      const checkpoint = parseSignedCheckpoint(event.data);
      if (checkpoint !== null) found.push(checkpoint);
    }
    if (page.length < COPY_PAGE_EVENT_COUNT_MAX) return found;
  }
};

/**
 * The log (events in position order) against its chains and the checkpoints of the external
 * store, and the log's own copies against those; with no external checkpoint (the store was lost,
 * or this is a copy of the log alone), against the log's own copies.
 */
export const verifyLog = async (
  store: EventStore,
  checkpoints: readonly SignedCheckpoint[],
  trustedKeys: ReadonlyMap<string, KeyObject>,
  onPage?: PageProgress,
): Promise<LogVerification> => {
  const verifier =
    checkpoints.length > 0
      ? createLogVerifier(checkpoints, trustedKeys, 'store')
      : createLogVerifier(await checkpointsInLog(store), trustedKeys, 'log');
  await forEachEvent(store, verifier.visit, undefined, onPage);
  return verifier.report();
};

type BundleLine =
  | { kind: 'bundle'; format: string; createdAt: string; eventCount: number }
  | { kind: 'publicKey'; keyId: string; pem: string }
  | ({ kind: 'checkpoint' } & SignedCheckpoint)
  | ({ kind: 'event' } & Record<string, unknown>);

/**
 * Writes a bundle, one JSON document a line: a header, the public keys, every checkpoint with
 * the heads it anchored, then the events up to the latest checkpoint's head. A checkpoint is
 * signed first when the log moved past the latest one, so that every event exported is anchored.
 */
const exportBundle = async (
  store: EventStore,
  log: SignedCheckpointLog,
  signer: CheckpointSigner & { publicKeyPem: string },
  publicKeyFiles: readonly string[],
  write: (line: string) => void,
  onPage?: PageProgress,
): Promise<{ eventCount: number; checkpointCount: number; headPosition: string | null }> => {
  await writeCheckpoint(store, log, signer, { now: () => new Date(), force: false });
  const checkpoints = log.all();
  const latest = checkpoints[checkpoints.length - 1];
  const headPosition = latest?.body.headPosition ?? null;
  const eventCount = latest?.body.eventCount ?? 0;
  const line = (value: BundleLine) => write(JSON.stringify(value));
  line({ kind: 'bundle', format: BUNDLE_FORMAT, createdAt: new Date().toISOString(), eventCount });
  for (const [keyId, key] of readPublicKeys(publicKeyFiles))
    line({ kind: 'publicKey', keyId, pem: key.export({ type: 'spki', format: 'pem' }).toString() });
  for (const checkpoint of checkpoints) line({ kind: 'checkpoint', ...checkpoint });
  if (headPosition !== null)
    await forEachEvent(
      store,
      (event) => write(eventJsonLine(event).replace(/^\{/, '{"kind":"event",')),
      { afterPosition: null, untilPosition: BigInt(headPosition) },
      onPage,
    );
  return { eventCount, checkpointCount: checkpoints.length, headPosition };
};

/** The bundle's event line as a recorded event; throws naming the first field that is wrong. */
const eventOfLine = (line: JsonObject, lineNumber: number): RecordedEvent => {
  const fail = (field: string): never => {
    throw new Error(`bundle line ${lineNumber}: event field ${field} is missing or malformed`);
  };
  const { stream, revision, position, id, type, data, metadata } = line;
  if (typeof stream !== 'string') return fail('stream');
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0)
    return fail('revision');
  if (typeof position !== 'string' || !/^[0-9]{1,20}$/.test(position)) return fail('position');
  if (typeof id !== 'string') return fail('id');
  if (typeof type !== 'string') return fail('type');
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return fail('data');
  if (typeof metadata !== 'object' || metadata === null || Array.isArray(metadata))
    return fail('metadata');
  try {
    const envelope = parseEventMetadata(metadata);
    return { stream, revision, position: BigInt(position), id, type, data, metadata: envelope };
  } catch (error) {
    if (!(error instanceof AssertionError)) throw error;
    return fail(`metadata (${error.message})`);
  }
};

/** The bundle's checkpoint line; throws naming the line when its shape is wrong. */
const checkpointOfLine = (line: JsonObject, lineNumber: number): SignedCheckpoint => {
  const checkpoint = parseSignedCheckpoint(line);
  if (checkpoint === null) throw new Error(`bundle line ${lineNumber}: malformed checkpoint`);
  return checkpoint;
};

/**
 * Verifies a bundle offline against the public keys given (never the ones inside it, which
 * anyone could have replaced): the checkpoints first, then its events as they stream by.
 */
const verifyBundle = async (
  file: string,
  trustedKeys: ReadonlyMap<string, KeyObject>,
): Promise<LogVerification> => {
  const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
  const checkpoints: SignedCheckpoint[] = [];
  let verifier: ReturnType<typeof createLogVerifier> | null = null;
  let lineNumber = 0;
  let previousPosition = -1n;
  for await (const text of lines) {
    lineNumber += 1;
    if (text.trim() === '') continue;
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(text) as JsonValue; // JSON.parse returns JSON.
    } catch {
      throw new Error(`bundle line ${lineNumber}: not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error(`bundle line ${lineNumber}: not a JSON object`);
    if (lineNumber === 1 && (parsed['kind'] !== 'bundle' || parsed['format'] !== BUNDLE_FORMAT))
      throw new Error(`bundle line 1: not a ${BUNDLE_FORMAT} header`);
    if (parsed['kind'] === 'checkpoint') {
      if (verifier !== null) throw new Error(`bundle line ${lineNumber}: checkpoint after events`);
      checkpoints.push(checkpointOfLine(parsed, lineNumber));
    }
    if (parsed['kind'] !== 'event') continue;
    const event = eventOfLine(parsed, lineNumber);
    if (event.position <= previousPosition)
      throw new Error(`bundle line ${lineNumber}: position ${event.position} out of order`);
    previousPosition = event.position;
    verifier ??= createLogVerifier(checkpoints, trustedKeys);
    verifier.visit(event);
  }
  if (lineNumber === 0) throw new Error(`${file}: empty, not a bundle`);
  return (verifier ?? createLogVerifier(checkpoints, trustedKeys)).report();
};

type VerifyOptions = LongCommandOptions & { bundle?: string; publicKey?: string[] };

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  value,
];

const signerOf = (config: Config) =>
  loadCheckpointSigner(config.dataDir, config.auditSigningKeyFile);

/** `ledger audit checkpoint` and `ledger audit verify`. */
export const registerCheckpointCommands = (audit: Command): void => {
  longCommand(
    audit
      .command('checkpoint')
      .description(
        'sign a checkpoint of the log now (head, event count, Merkle root of every stream head)',
      ),
  ).action(async (options: LongCommandOptions) => {
    const config = loadConfig(process.env);
    const signer = signerOf(config);
    const store = openEventStore(config);
    try {
      const written = await withCheckpointLog(config.dataDir, (log) =>
        writeCheckpoint(store, log, signer, { now: () => new Date(), force: false }),
      );
      const result = {
        written: written !== null,
        checkpoint: written?.body ?? null,
        publicKeyFile: signer.publicKeyFile,
      };
      printResult(options, result, () =>
        written === null
          ? `no event since the latest checkpoint: none written\npublic key: ${signer.publicKeyFile}\n`
          : `checkpoint ${written.body.sequence}: ${written.body.eventCount} events up to position ${written.body.headPosition ?? 'none'}, ${written.body.streamCount} streams, signed by key ${written.body.keyId}\npublic key: ${signer.publicKeyFile}\n`,
      );
    } finally {
      await store.close();
    }
  });
  longCommand(
    audit
      .command('verify')
      .description(
        "recompute every stream's hash chain and check the log against its signed checkpoints (or verify an exported --bundle offline); exit 1 on any finding",
      )
      .option('--bundle <file>', 'verify this exported bundle instead of the data dir')
      .option(
        '--public-key <file>',
        'a trusted public key (PEM; repeatable); default: the data dir’s audit-public-key*.pem',
        collect,
      ),
  ).action(async (options: VerifyOptions) => {
    if (options.bundle !== undefined && options.publicKey === undefined)
      throw new Error('--bundle needs --public-key: the keys inside a bundle prove nothing');
    if (options.bundle !== undefined) {
      const bundle = options.bundle;
      const keys = readPublicKeys(options.publicKey ?? []);
      const report = await withProgress(options, { label: 'audit verify', endPosition: null }, () =>
        verifyBundle(bundle, keys),
      );
      printResult(options, report, () => verificationSummary(report));
      process.exitCode = report.ok ? 0 : 1;
      return;
    }
    const config = loadConfig(process.env);
    const keys = readPublicKeys(options.publicKey ?? dataDirPublicKeyFiles(config.dataDir));
    const store = openEventStore(config);
    try {
      const checkpoints = await withCheckpointLog(config.dataDir, async (log) => log.all());
      const report = await withProgress(
        options,
        { label: 'audit verify', endPosition: await store.headPosition() },
        (onPage) => verifyLog(store, checkpoints, keys, onPage),
      );
      printResult(options, report, () => verificationSummary(report));
      process.exitCode = report.ok ? 0 : 1;
    } finally {
      await store.close();
    }
  });
};

/** Writes the bundle of the data dir's log to `write` (used by `ledger audit export --bundle`). */
export const exportDataDirBundle = async (
  config: Config,
  store: EventStore,
  write: (line: string) => void,
  onPage?: PageProgress,
) => {
  const signer = signerOf(config);
  return withCheckpointLog(config.dataDir, (log) =>
    exportBundle(store, log, signer, dataDirPublicKeyFiles(config.dataDir), write, onPage),
  );
};
