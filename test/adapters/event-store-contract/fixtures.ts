import { randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import {
  type ChainTail,
  EMPTY_CHAIN,
  type UnhashedEvent,
  sealEvents,
} from '../../../domain/event-chain';
import type {
  AppendResult,
  EventStore,
  EventSubscription,
  IdempotencyRecord,
  MultiAppendResult,
  NewEvent,
  RecordedEvent,
} from '../../../domain/ports/event-store.port';

export type ContractOptions = {
  /** True when every open() shares one log with other tests and processes (a real server). */
  sharedLog: boolean;
};

export type ContractContext = { options: ContractOptions; store: () => EventStore };

const GUARD_MS = 10_000; // Turns a hang into a readable failure; never a speed assertion.

export const newStream = (): string => `account-${randomUUID()}`;

const unhashed = (index: number): UnhashedEvent => ({
  id: uuidv7(),
  type: index % 2 === 0 ? 'AccountCredited' : 'AccountDebited',
  data: {
    amountMinor: 100 + index,
    currency: 'EUR',
    note: 'é ✓ "q"',
    tags: [1, 'two', null, true, { a: [] }],
  },
  metadata: {
    correlationId: uuidv7(),
    causationId: index === 0 ? null : uuidv7(),
    actor: { clientId: 'client-1', role: 'merchant', ip: index === 0 ? null : '203.0.113.7' },
    idempotencyKey: index === 0 ? null : `key-${index}`,
    occurredAt: '2025-01-02T03:04:05.678Z',
    schemaVersion: 1,
  },
});

/** `count` new events sealed onto the stream's hash chain after `tail`. */
export const seal = (stream: string, count: number, tail: ChainTail = EMPTY_CHAIN) =>
  sealEvents(
    stream,
    tail,
    Array.from({ length: count }, (_, index) => unhashed(index)),
  );

export const newEvents = (stream: string, count: number): NewEvent[] => seal(stream, count).events;

export const conflict = (revisionActual: number | null): AppendResult => ({
  ok: false,
  reason: 'revision_conflict',
  revisionActual,
});

export const appended = (result: AppendResult): { lastRevision: number; lastPosition: bigint } => {
  if (!result.ok) throw new Error(`expected the append to succeed: ${JSON.stringify(result)}`);
  return result;
};

type MultiAppended = Extract<MultiAppendResult, { ok: true }>;

const bigintAsText = (_key: string, value: unknown): unknown =>
  typeof value === 'bigint' ? `${value}n` : value;

export const multiAppended = (result: MultiAppendResult): MultiAppended => {
  if (!result.ok)
    throw new Error(`expected the append to succeed: ${JSON.stringify(result, bigintAsText)}`);
  return result;
};

export const revisionConflicts = (
  ...conflicts: { stream: string; revisionActual: number | null }[]
): MultiAppendResult => ({ ok: false, reason: 'revision_conflict', conflicts });

/** A scope of its own, so that tests sharing one server never meet each other's keys. */
export const newScope = (): string => `client-${randomUUID()} POST /v1/transfers`;

export const newRecord = (scope: string, key: string, createdAtMs: number): IdempotencyRecord => ({
  scope,
  key,
  fingerprint: `fingerprint-${key}`,
  response: {
    status: 201,
    body: { code: 0, msg: 'ok', data: { transferId: key, note: 'é ✓ "q"' } },
    headers: { location: `/v1/transfers/${key}` },
  },
  createdAtMs,
});

export const expectIncreasing = (positions: readonly bigint[]): void => {
  const pairs = positions.slice(1).map((position, index) => [positions[index] ?? -1n, position]);
  expect(pairs.filter(([before, after]) => (after ?? 0n) <= (before ?? 0n))).toEqual([]);
};

export const readWhole = (store: EventStore, stream: string): Promise<readonly RecordedEvent[]> =>
  store.readStream(stream, { fromRevision: 0, direction: 'forwards', eventCountMax: 1000 });

const within = async <T>(promise: Promise<T>, what: () => string): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what()}: nothing after ${GUARD_MS} ms`)),
      GUARD_MS,
    );
  });
  try {
    return await Promise.race([promise, guard]);
  } finally {
    clearTimeout(timer);
  }
};

/** Iterates a subscription in the background, keeping the events `keep` accepts. */
export const follow = (
  subscription: EventSubscription,
  keep: (event: RecordedEvent) => boolean,
) => {
  const received: RecordedEvent[] = [];
  const waiting: { current: { count: number; resolve: () => void } | null } = { current: null };
  const ended = (async () => {
    for await (const event of subscription) {
      if (!keep(event)) continue;
      received.push(event);
      if (waiting.current !== null && received.length >= waiting.current.count)
        waiting.current.resolve();
    }
  })();
  ended.catch(() => undefined); // Observed through `ended()` below; never an unhandled rejection.
  const until = (count: number): Promise<void> =>
    within(
      new Promise<void>((resolve) => {
        if (received.length >= count) resolve();
        else waiting.current = { count, resolve };
      }),
      () => `subscription awaiting its event #${count} (has ${received.length})`,
    );
  return { received, until, ended: () => within(ended, () => 'iteration ending after close()') };
};
