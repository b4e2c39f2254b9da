import { assert } from '../assert';

/**
 * Milliseconds since the epoch of an ISO-8601 instant. ISO strings are compared as instants, not
 * as text, because offsets and fractional seconds make text order differ from time order.
 */
export const instantMs = (iso: string, name: string): number => {
  const ms = Date.parse(iso);
  assert(!Number.isNaN(ms), `${name} must be an ISO-8601 instant, got '${iso}'`); // ajv checked.
  return ms;
};
