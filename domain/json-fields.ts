import { assert } from './assert';
import type { JsonObject, JsonValue } from './ports/event-store.port';

/**
 * Typed reads of JSON that this service wrote itself (snapshots, saga inputs and outputs): each
 * throws an AssertionError naming the field when the value is not what was written, so a damaged
 * snapshot is refused and a saga definition's bug fails its step.
 */
export const jsonObject = (value: JsonValue | undefined, what: string): JsonObject => {
  assert(
    typeof value === 'object' && value !== null && !Array.isArray(value),
    `${what}: not an object`,
  );
  return value;
};

export const stringField = (object: JsonObject, name: string): string => {
  const value = object[name];
  assert(typeof value === 'string', `${name}: not a string`);
  return value;
};

export const booleanField = (object: JsonObject, name: string): boolean => {
  const value = object[name];
  assert(typeof value === 'boolean', `${name}: not a boolean`);
  return value;
};

export const numberField = (object: JsonObject, name: string): number => {
  const value = object[name];
  assert(typeof value === 'number', `${name}: not a number`);
  return value;
};

/** A safe integer ≥ 0 (amounts in minor units, byte counts). */
export const countField = (object: JsonObject, name: string): number => {
  const value = object[name];
  assert(
    typeof value === 'number' && Number.isSafeInteger(value) && value >= 0,
    `${name}: not a safe integer ≥ 0`,
  );
  return value;
};

export const arrayField = (object: JsonObject, name: string): JsonValue[] => {
  const value = object[name];
  assert(Array.isArray(value), `${name}: not an array`);
  return value;
};

export const stringArrayField = (object: JsonObject, name: string): string[] =>
  arrayField(object, name).map((item) => {
    assert(typeof item === 'string', `${name}: not an array of strings`);
    return item;
  });

/** A field whose value must be one of `allowed`. */
export const oneOfField = <T extends string>(
  object: JsonObject,
  name: string,
  allowed: readonly T[],
): T => {
  const value = stringField(object, name);
  const found = allowed.find((candidate) => candidate === value);
  assert(found !== undefined, `${name}: '${value}' is not one of ${allowed.join(', ')}`);
  return found;
};

export const nullableStringField = (object: JsonObject, name: string): string | null =>
  object[name] === null ? null : stringField(object, name);

export const nullableCountField = (object: JsonObject, name: string): number | null =>
  object[name] === null ? null : countField(object, name);

/** An object of strings (an account's metadata). */
export const stringMapField = (object: JsonObject, name: string): Record<string, string> => {
  const map = jsonObject(object[name], name);
  return Object.fromEntries(Object.keys(map).map((key) => [key, stringField(map, key)]));
};

/** The one event version of a category that has not changed its events since version 1. */
export const assertVersionOne = (type: string, schemaVersion: number): void =>
  assert(schemaVersion === 1, `${type}: unknown schemaVersion ${schemaVersion}`);

/**
 * An optional field: `{ [name]: read(object, name) }` when present, `{}` when absent, so a parser
 * spreads it into the result and an absent field stays absent (never `undefined`).
 */
export const optionalField = <Name extends string, T>(
  object: JsonObject,
  name: Name,
  read: (object: JsonObject, name: string) => T,
): Partial<Record<Name, T>> =>
  object[name] === undefined ? {} : ({ [name]: read(object, name) } as Record<Name, T>);
