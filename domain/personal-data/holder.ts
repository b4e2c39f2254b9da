import { jsonObject, stringArrayField, stringField } from '../json-fields';
import { assert } from '../assert';
import type { JsonObject, JsonValue } from '../ports/event-store.port';

/**
 * Personal data of an account's or payment's holder. Events never hold it in clear: only a
 * SealedHolder (AES-256-GCM ciphertext under the data subject's own key, kept outside the log),
 * so that destroying the key erases the data everywhere while the events and their hash chains
 * stay as they are (crypto-shredding).
 */
export const HOLDER_FIELDS = ['name', 'nationalId', 'phone', 'bankCard', 'email'] as const;
export type HolderField = (typeof HOLDER_FIELDS)[number];
export type HolderFields = Partial<Record<HolderField, string>>;

export type SealedHolder = {
  /** The data subject: the key's owner, and what an erasure names. */
  subjectId: string;
  /** Which fields the ciphertext holds (names only, no values), in HOLDER_FIELDS order. */
  fields: HolderField[];
  /** `v1.<iv>.<ciphertext>.<tag>` in base64url; the subject id is the additional data. */
  sealed: string;
};

/** A field shown after its subject's key was destroyed. */
const ERASED = 'erased';

/** Keeps `head` and `tail` characters, one '*' for each character between. */
const keepEnds = (value: string, head: number, tail: number): string => {
  const chars = Array.from(value);
  if (chars.length <= head + tail) return '*'.repeat(chars.length);
  return (
    chars.slice(0, head).join('') +
    '*'.repeat(chars.length - head - tail) +
    chars.slice(chars.length - tail).join('')
  );
};

/**
 * The masking rules of the data-exchange seed (004): national ID first 6 and last 4
 * (110101********1234), phone first 3 and last 4 (138****1234), bank card first 4 and last 4,
 * name the first character and one '*' per other character (李*, 张**); email (not in the seed)
 * the local part's first character, '***' and the domain.
 */
const MASKS: Record<HolderField, (value: string) => string> = {
  nationalId: (value) => keepEnds(value, 6, 4),
  phone: (value) => keepEnds(value, 3, 4),
  bankCard: (value) => keepEnds(value, 4, 4),
  name: (value) => {
    const chars = Array.from(value);
    return `${chars[0] ?? ''}${'*'.repeat(Math.max(1, chars.length - 1))}`;
  },
  email: (value) => {
    const at = value.lastIndexOf('@');
    const first = Array.from(value)[0] ?? '';
    return at <= 0 ? '***' : `${first}***${value.slice(at)}`;
  },
};

export const maskHolder = (fields: HolderFields): HolderFields =>
  Object.fromEntries(
    HOLDER_FIELDS.flatMap((field) => {
      const value = fields[field];
      return value === undefined ? [] : [[field, MASKS[field](value)]];
    }),
  );

/** Every field the sealed holder held, shown as erased. */
export const erasedHolder = (holder: SealedHolder): HolderFields =>
  Object.fromEntries(holder.fields.map((field) => [field, ERASED]));

/** The fields present, in HOLDER_FIELDS order. */
export const holderFieldsOf = (fields: HolderFields): HolderField[] =>
  HOLDER_FIELDS.filter((field) => fields[field] !== undefined);

export const encodeSealedHolder = (holder: SealedHolder): JsonObject => ({
  subjectId: holder.subjectId,
  fields: [...holder.fields],
  sealed: holder.sealed,
});

/** Reads a stored SealedHolder back; an unknown field name is a damaged event. */
export const parseSealedHolder = (value: JsonValue | undefined): SealedHolder => {
  const object = jsonObject(value, 'holder');
  const fields = stringArrayField(object, 'fields').map((name) => {
    const field = HOLDER_FIELDS.find((known) => known === name);
    assert(field !== undefined, `holder.fields: unknown field '${name}'`);
    return field;
  });
  return {
    subjectId: stringField(object, 'subjectId'),
    fields,
    sealed: stringField(object, 'sealed'),
  };
};
