import type { SnapshotCodec } from '../aggregate';
import { booleanField, countField, jsonObject, stringArrayField } from '../json-fields';
import type { JsonValue } from '../ports/event-store.port';
import type { TrafficState } from './traffic.model';

const decode = (saved: JsonValue): TrafficState => {
  const state = jsonObject(saved, 'traffic snapshot');
  return {
    quotaBytes: countField(state, 'quotaBytes'),
    uploadBytes: countField(state, 'uploadBytes'),
    downloadBytes: countField(state, 'downloadBytes'),
    exceeded: booleanField(state, 'exceeded'),
    grantIds: stringArrayField(state, 'grantIds'),
    resetIds: stringArrayField(state, 'resetIds'),
    recentReportIds: stringArrayField(state, 'recentReportIds'),
  };
};

/** Version 1: the state as it is, already plain JSON. */
export const trafficSnapshotCodec: SnapshotCodec<TrafficState> = {
  schemaVersion: 1,
  encode: (state) => ({
    ...state,
    grantIds: [...state.grantIds],
    resetIds: [...state.resetIds],
    recentReportIds: [...state.recentReportIds],
  }),
  decode,
};
