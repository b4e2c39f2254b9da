import { GENESIS_HASH } from '../event-chain';
import { leafHashOf, nodeHashOf, type StreamHead } from './log-checkpoint';

/**
 * streamsRootOf kept between checkpoints, so that a checkpoint costs the leaves of the streams
 * that moved and the inner nodes, not a sort of every name and a leaf per stream; and computed
 * as a generator that yields after every few units of work (a hash, a name merged), so that its
 * caller can spread it over turns of the event loop. Same tree, same root as streamsRootOf.
 */
export type StreamLeaves = {
  /** The sequence of the checkpoint these leaves are as of (0 before the first). */
  sequence: number;
  /** Every stream's name, sorted as streamsRootOf sorts them (UTF-16 code units). */
  names: string[];
  /** Each stream's leaf hash (leafHashOf), by name. */
  leafByName: Map<string, string>;
};

/** The leaves after a checkpoint's moved heads, with its root: adopted once it is written. */
type NextStreamLeaves = {
  root: string;
  names: string[];
  changedLeafByName: Map<string, string>;
};

/** Units of work (a hash, a name) between two yields. */
const UNITS_PER_YIELD = 64;

export const emptyStreamLeaves = (): StreamLeaves => ({
  sequence: 0,
  names: [],
  leafByName: new Map(),
});

/**
 * Leaves of heads read in name order (as a store keeps them): yields every few heads. A page in
 * another order (names beyond the Basic Multilingual Plane sort differently in SQLite) is sorted.
 */
export function* streamLeavesOf(
  sequence: number,
  heads: Iterable<StreamHead>,
): Generator<void, StreamLeaves> {
  const names: string[] = [];
  const leafByName = new Map<string, string>();
  let sorted = true;
  let units = 0;
  for (const head of heads) {
    const previous = names[names.length - 1];
    if (previous !== undefined && previous >= head.stream) sorted = false;
    names.push(head.stream);
    leafByName.set(head.stream, leafHashOf(head));
    units += 1;
    if (units % UNITS_PER_YIELD === 0) yield;
  }
  if (!sorted) names.sort();
  return { sequence, names, leafByName };
}

/**
 * The root over `leaves` with `changed` heads put in (new streams in name order), yielding every
 * few units of work; `leaves` is left as it is (adoptStreamLeaves applies the outcome).
 */
export function* nextStreamLeaves(
  leaves: StreamLeaves,
  changed: Iterable<StreamHead>,
): Generator<void, NextStreamLeaves> {
  let units = 0;
  const changedLeafByName = new Map<string, string>();
  const newNames: string[] = [];
  for (const head of changed) {
    if (!leaves.leafByName.has(head.stream) && !changedLeafByName.has(head.stream))
      newNames.push(head.stream);
    changedLeafByName.set(head.stream, leafHashOf(head));
    units += 1;
    if (units % UNITS_PER_YIELD === 0) yield;
  }
  newNames.sort();
  const names: string[] = [];
  let level: string[] = [];
  for (let old = 0, added = 0; old < leaves.names.length || added < newNames.length;) {
    const oldName = leaves.names[old];
    const newName = newNames[added];
    let name: string;
    if (newName === undefined || (oldName !== undefined && oldName < newName)) {
      name = oldName as string;
      old += 1;
    } else {
      name = newName;
      added += 1;
    }
    names.push(name);
    level.push(changedLeafByName.get(name) ?? (leaves.leafByName.get(name) as string));
    units += 1;
    if (units % UNITS_PER_YIELD === 0) yield;
  }
  if (level.length === 0) return { root: GENESIS_HASH, names, changedLeafByName };
  while (level.length > 1) {
    const next: string[] = [];
    for (let index = 0; index < level.length; index += 2) {
      const left = level[index] as string;
      const right = level[index + 1];
      next.push(right === undefined ? left : nodeHashOf(left, right));
      units += 1;
      if (units % UNITS_PER_YIELD === 0) yield;
    }
    level = next;
  }
  return { root: level[0] as string, names, changedLeafByName };
}

/** Makes `leaves` those after the checkpoint `sequence` (whose root `next` computed). */
export const adoptStreamLeaves = (
  leaves: StreamLeaves,
  next: NextStreamLeaves,
  sequence: number,
): void => {
  leaves.sequence = sequence;
  leaves.names = next.names;
  for (const [name, leaf] of next.changedLeafByName) leaves.leafByName.set(name, leaf);
};
