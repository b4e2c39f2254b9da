import { versionedEventCodec, type Aggregate } from '../aggregate';
import { assert, AssertionError } from '../assert';
import { accept } from '../decision';
import {
  arrayField,
  countField,
  jsonObject,
  nullableStringField,
  stringField,
} from '../json-fields';
import type { JsonObject, JsonValue } from '../ports/event-store.port';

/**
 * The journal of purchase attempts the velocity rules count: stream
 * `riskattempts-<YYYY-MM-DDTHH>` (UTC hour of the attempts), one RiskAttemptsRecorded event per
 * flush of the attempts seen meanwhile. A service rebuilds its velocity windows from the hours its
 * rules can look back on, so a restart does not hand every buyer a fresh window.
 */
export type RecordedAttempt = {
  buyerId: string;
  ip: string;
  deviceId: string | null;
  atMs: number;
};

type RiskAttemptsCommand = { type: 'RecordRiskAttempts'; data: { attempts: RecordedAttempt[] } };
type RiskAttemptsEvent = { type: 'RiskAttemptsRecorded'; data: { attempts: RecordedAttempt[] } };

/**
 * Version 2 stores each attempt as `[buyerId, ip, deviceId, atMs]` instead of version 1's object:
 * the same facts in about half the bytes, which every flush's hash, store and relay pays (a flash
 * sale journals thousands of attempts a second). Version 1 events are upcast here on read.
 */
type AttemptTuple = [string, string, string | null, number];

const tupleOf = (attempt: RecordedAttempt): AttemptTuple => [
  attempt.buyerId,
  attempt.ip,
  attempt.deviceId,
  attempt.atMs,
];

/** Version 1's attempt objects as version 2's tuples (each field checked on the way). */
const upcastAttemptObjects = (type: string, data: JsonObject): JsonObject => {
  if (type !== 'RiskAttemptsRecorded') return data; // Refused by parse, naming the type.
  const attempts = arrayField(data, 'attempts').map((value) => {
    const attempt = jsonObject(value, 'attempt');
    return tupleOf({
      buyerId: stringField(attempt, 'buyerId'),
      ip: stringField(attempt, 'ip'),
      deviceId: nullableStringField(attempt, 'deviceId'),
      atMs: countField(attempt, 'atMs'),
    });
  });
  return { attempts };
};

const attemptOf = (value: JsonValue): RecordedAttempt => {
  assert(Array.isArray(value) && value.length === 4, 'attempt: not [buyerId, ip, deviceId, atMs]');
  const [buyerId, ip, deviceId, atMs] = value;
  assert(typeof buyerId === 'string', 'attempt: buyerId not a string');
  assert(typeof ip === 'string', 'attempt: ip not a string');
  assert(deviceId === null || typeof deviceId === 'string', 'attempt: deviceId not a string');
  assert(
    typeof atMs === 'number' && Number.isSafeInteger(atMs) && atMs >= 0,
    'attempt: atMs not a safe integer ≥ 0',
  );
  return { buyerId, ip, deviceId, atMs };
};

const riskAttemptsCodec = versionedEventCodec<RiskAttemptsEvent>({
  upcasters: [upcastAttemptObjects],
  encode: (event) => ({ attempts: event.data.attempts.map(tupleOf) }),
  parse: (type, data) => {
    if (type !== 'RiskAttemptsRecorded')
      throw new AssertionError(`riskattempts: unknown event type ${type}`);
    return { type, data: { attempts: arrayField(data, 'attempts').map(attemptOf) } };
  },
});

export const riskAttemptsAggregate: Aggregate<
  RiskAttemptsCommand,
  RiskAttemptsEvent,
  { flushCount: number },
  never
> = {
  category: 'riskattempts',
  initialState: { flushCount: 0 },
  decide: (command) =>
    accept({ type: 'RiskAttemptsRecorded', data: { attempts: command.data.attempts } }),
  evolve: (state) => ({ flushCount: state.flushCount + 1 }),
  eventCodec: riskAttemptsCodec,
  snapshotCodec: {
    schemaVersion: 1,
    encode: (state) => state.flushCount,
    decode: (saved) => {
      assert(typeof saved === 'number' && Number.isSafeInteger(saved), 'flush count');
      return { flushCount: saved };
    },
  },
};

const HOUR_MS = 3600 * 1000;

/** The journal stream id of an instant: its UTC hour. */
export const riskAttemptsIdOf = (atMs: number): string =>
  new Date(Math.floor(atMs / HOUR_MS) * HOUR_MS).toISOString().slice(0, 13);

/** The journal stream ids covering the lookBackMs before nowMs, oldest first. */
export const riskAttemptsIdsSince = (nowMs: number, lookBackMs: number): string[] => {
  const ids: string[] = [];
  const lastHourMs = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const firstHourMs = Math.floor((nowMs - lookBackMs) / HOUR_MS) * HOUR_MS;
  for (let hourMs = firstHourMs; hourMs <= lastHourMs; hourMs += HOUR_MS)
    ids.push(riskAttemptsIdOf(hourMs));
  return ids;
};
