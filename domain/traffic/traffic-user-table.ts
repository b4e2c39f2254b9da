import { assert } from '../assert';

/**
 * Users numbered in the order they were added, found by their id and its hash
 * (trafficUserHashOf): open addressing with linear probing over typed arrays, at most half full,
 * the id compared only on an equal hash. It replaces a Map keyed by id strings where each lookup
 * hashes a fresh string (a report's ids are new strings) and compares it with a cold key. An
 * entry may be retired (a later add of the same id makes a new entry): retired entries are
 * skipped by find and by the iteration of the live ones.
 */
export class TrafficUserTable {
  /** Per entry: the user id, its hash, and whether it is retired. */
  readonly ids: string[] = [];
  private readonly hashes: number[] = [];
  private readonly retired: boolean[] = [];
  /**
   * Two cells per place, side by side so one probe reads one cache line: 1 + the entry placed
   * there (0: free), then the entry's hash (as an int32).
   */
  private places: Int32Array;

  constructor(entryCountHint: number) {
    let size = 16;
    while (size < entryCountHint * 2) size *= 2;
    this.places = new Int32Array(size * 2);
  }

  /** Entries added, retired ones included. */
  get entryCount(): number {
    return this.ids.length;
  }

  /** The live entry of the user, else -1. */
  find(userId: string, userHash: number): number {
    const { places, ids, retired } = this;
    const mask = places.length / 2 - 1;
    const hashCell = userHash | 0;
    let place = userHash & mask;
    for (;;) {
      const entry = (places[place * 2] ?? 0) - 1;
      if (entry < 0) return -1;
      if (places[place * 2 + 1] === hashCell && ids[entry] === userId && retired[entry] !== true)
        return entry;
      place = (place + 1) & mask;
    }
  }

  /** A new entry for a user without a live one; returns it. */
  add(userId: string, userHash: number): number {
    const entry = this.ids.length;
    if ((entry + 1) * 2 > this.places.length / 2) this.grow();
    this.ids.push(userId);
    this.hashes.push(userHash);
    this.retired.push(false);
    this.place(entry, userHash);
    return entry;
  }

  /** Retires a live entry: find no longer returns it. */
  retire(entry: number): void {
    assert(this.retired[entry] === false, 'traffic user table: retired twice');
    this.retired[entry] = true;
  }

  /** True for an entry that was added and not retired. */
  isLive(entry: number): boolean {
    return this.retired[entry] === false;
  }

  private place(entry: number, userHash: number): void {
    const { places } = this;
    const mask = places.length / 2 - 1;
    let place = userHash & mask;
    while ((places[place * 2] ?? 0) !== 0) place = (place + 1) & mask;
    places[place * 2] = entry + 1;
    places[place * 2 + 1] = userHash | 0;
  }

  private grow(): void {
    this.places = new Int32Array(this.places.length * 2);
    for (let entry = 0; entry < this.ids.length; entry += 1)
      this.place(entry, this.hashes[entry] ?? 0);
  }
}
