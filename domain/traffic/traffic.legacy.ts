import { assert } from '../assert';
import { countField, stringField } from '../json-fields';
import type { JsonObject } from '../ports/event-store.port';
import {
  initialTrafficUserState,
  isByteCount,
  usedBytesOf,
  type TrafficUserState,
} from './traffic.model';

/**
 * Streams `traffic-<userId>` were the layout before the shards (one stream per user). They stay
 * in the log untouched; at start the service imports each one's final state into its shard once
 * (bin/legacy-traffic-import.ts). This is the fold of their four event types, as they were written.
 */
export const LEGACY_TRAFFIC_CATEGORY = 'traffic';

const foldLegacyTrafficEvent = (
  user: TrafficUserState,
  event: { type: string; data: JsonObject },
): TrafficUserState => {
  const { data } = event;
  switch (event.type) {
    case 'QuotaGranted': {
      const quotaBytes = user.quotaBytes + countField(data, 'quotaBytes');
      const exceeded = user.exceeded && usedBytesOf(user) > quotaBytes;
      return {
        ...user,
        quotaBytes,
        exceeded,
        grantIds: [...user.grantIds, stringField(data, 'grantId')],
      };
    }
    case 'QuotaReset':
      return {
        ...user,
        quotaBytes: countField(data, 'quotaBytes'),
        uploadBytes: 0,
        downloadBytes: 0,
        exceeded: false,
        resetIds: [...user.resetIds, stringField(data, 'resetId')],
      };
    case 'UsageRecorded':
      return {
        ...user,
        uploadBytes: user.uploadBytes + countField(data, 'uploadBytes'),
        downloadBytes: user.downloadBytes + countField(data, 'downloadBytes'),
      };
    case 'QuotaExceeded':
      return { ...user, exceeded: true };
    default:
      assert(false, `legacy traffic stream: unknown event type ${event.type}`);
  }
};

/** The final state of a legacy stream; byte counts past the safe range mean a damaged stream. */
export const foldLegacyTrafficStream = (
  events: readonly { type: string; data: JsonObject }[],
): TrafficUserState => {
  const user = events.reduce(foldLegacyTrafficEvent, initialTrafficUserState);
  const { quotaBytes, uploadBytes, downloadBytes } = user;
  assert(
    [quotaBytes, uploadBytes, downloadBytes, usedBytesOf(user)].every(isByteCount),
    'legacy traffic stream: a byte count past the safe-integer range',
  );
  return user;
};
