import type { Aggregate, EventCodec } from '../aggregate';
import { assert } from '../assert';
import { accept } from '../decision';
import {
  arrayField,
  assertVersionOne,
  countField,
  jsonObject,
  nullableStringField,
  stringField,
} from '../json-fields';
import type { JsonValue } from '../ports/event-store.port';

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

const parseAttempt = (value: JsonValue): RecordedAttempt => {
  const attempt = jsonObject(value, 'attempt');
  return {
    buyerId: stringField(attempt, 'buyerId'),
    ip: stringField(attempt, 'ip'),
    deviceId: nullableStringField(attempt, 'deviceId'),
    atMs: countField(attempt, 'atMs'),
  };
};

export const riskAttemptsCodec: EventCodec<RiskAttemptsEvent> = {
  schemaVersion: 1,
  encode: (event) => ({ attempts: event.data.attempts }),
  parse: (stored) => {
    assert(stored.type === 'RiskAttemptsRecorded', `unknown risk attempts event ${stored.type}`);
    assertVersionOne(stored.type, stored.metadata.schemaVersion);
    return {
      type: 'RiskAttemptsRecorded',
      data: { attempts: arrayField(stored.data, 'attempts').map(parseAttempt) },
    };
  },
};

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
