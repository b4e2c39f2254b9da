import type { StatementRow } from './reconciliation';

/**
 * What every statement parser shares: RFC 4180 fields, header columns found by name, a row
 * limit, and a result naming the first bad line (1-based, as an editor shows it).
 */
export const STATEMENT_ROW_COUNT_MAX = 1_000_000;

export type ParsedStatement =
  { ok: true; rows: StatementRow[] } | { ok: false; line: number; reason: string };

/** RFC 4180 fields of one line: quotes around fields, "" inside them. */
export const splitCsvLine = (line: string): string[] | null => {
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < line.length; index += 1) {
    const char = line[index];
    if (quoted) {
      if (char === '"' && line[index + 1] === '"') {
        field += '"';
        index += 1;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === '') quoted = true;
    else if (char === ',') {
      fields.push(field);
      field = '';
    } else field += char;
  }
  if (quoted) return null;
  fields.push(field);
  return fields;
};

/** Column name → index; a name listed with aliases matches any of them. Missing columns map to -1. */
export const columnsByName = <K extends string>(
  header: readonly string[],
  names: Readonly<Record<K, readonly string[]>>,
  normalize: (name: string) => string,
): Record<K, number> => {
  const found = header.map((name) => normalize(name.replace(/^\uFEFF/, '').trim()));
  const columns = {} as Record<K, number>;
  for (const [key, aliases] of Object.entries(names) as [K, readonly string[]][]) {
    columns[key] = found.findIndex((name) => aliases.some((alias) => normalize(alias) === name));
  }
  return columns;
};

/** The first required column absent from the header, as `missing column <name>`; else null. */
export const missingColumn = <K extends string>(
  columns: Readonly<Record<K, number>>,
  names: Readonly<Record<K, readonly string[]>>,
  required: readonly K[],
): string | null => {
  const absent = required.find((key) => columns[key] < 0);
  return absent === undefined ? null : `missing column ${names[absent].join(' or ')}`;
};

type TableFormat<C> = {
  /** Column positions from the header row, or why the header is refused. */
  columns: (header: readonly string[]) => C | string;
  /** One statement row, null for a line that is no payment of ours to compare, or why it is refused. */
  row: (fields: readonly string[], columns: C) => StatementRow | null | string;
};

/**
 * A CSV whose '#' lines are comments (Alipay puts its title before the header and its totals
 * after the rows). The first other line is the header. Paid rows come before refund rows, so
 * the reconciliation compares a payment's own row when the statement holds both.
 */
export const parseCommentedTable = <C extends object>(
  text: string,
  format: TableFormat<C>,
): ParsedStatement => {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let columns: C | null = null;
  const rows: StatementRow[] = [];
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] ?? '';
    if (line.trim() === '' || line.startsWith('#')) continue;
    const fields = splitCsvLine(line);
    if (fields === null) return { ok: false, line: index + 1, reason: 'unterminated quote' };
    if (columns === null) {
      const found = format.columns(fields);
      if (typeof found === 'string') return { ok: false, line: index + 1, reason: found };
      columns = found;
      continue;
    }
    if (rows.length >= STATEMENT_ROW_COUNT_MAX)
      return { ok: false, line: index + 1, reason: `more than ${STATEMENT_ROW_COUNT_MAX} rows` };
    const row = format.row(fields, columns);
    if (typeof row === 'string') return { ok: false, line: index + 1, reason: row };
    if (row !== null) rows.push(row);
  }
  if (columns === null) return { ok: false, line: lines.length, reason: 'no header row' };
  return {
    ok: true,
    rows: [
      ...rows.filter((row) => row.status !== 'refunded'),
      ...rows.filter((row) => row.status === 'refunded'),
    ],
  };
};
