/** One line of the results table. */
export type Row = {
  scenario: string;
  /** Requests (or appends) completed, whatever their status. */
  requests: number;
  throughputPerS: number;
  /** What throughputPerS counts: 'req/s', 'records/s', 'events/s'. */
  unit: string;
  p50Ms: number | null;
  p99Ms: number | null;
  errors: number;
  non2xx: number;
  /** The figure this scenario is judged on, e.g. '≥ 5,000 req/s'; '' when there is none. */
  target: string;
  met: boolean | null;
  /** Secondary figures: ratios, appends/s, status counts. */
  note: string;
};

const integerFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimalFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export const formatInteger = (value: number): string => integerFormat.format(value);
const formatMs = (value: number | null): string =>
  value === null ? '-' : decimalFormat.format(value);
const verdict = (met: boolean | null): string => (met === null ? '-' : met ? 'met' : 'MISSED');

const HEADER = [
  'scenario',
  'requests',
  'throughput',
  'p50 ms',
  'p99 ms',
  'errors/non-2xx',
  'target',
  'verdict',
  'note',
];

const cells = (row: Row): string[] => [
  row.scenario,
  formatInteger(row.requests),
  `${formatInteger(row.throughputPerS)} ${row.unit}`,
  formatMs(row.p50Ms),
  formatMs(row.p99Ms),
  `${row.errors}/${row.non2xx}`,
  row.target === '' ? '-' : row.target,
  verdict(row.met),
  row.note,
];

/** One figure beside its target: what `npm run bench` is judged on, line by line. */
export type Check = {
  scenario: string;
  /** What is measured, e.g. 'throughput' or 'CPU per transfer'. */
  measure: string;
  figure: string;
  target: string;
  met: boolean | null;
};

const CHECK_HEADER = ['scenario', 'measure', 'figure', 'target', 'verdict'];
const checkCells = (check: Check): string[] => [
  check.scenario,
  check.measure,
  check.figure,
  check.target,
  verdict(check.met),
];

/** A fixed-width table for the terminal. */
const renderText = (header: readonly string[], lines: readonly string[][]): string => {
  const table = [header, ...lines];
  const widths = header.map((_title, column) =>
    Math.max(...table.map((line) => (line[column] ?? '').length)),
  );
  const render = (line: readonly string[]): string =>
    line
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('  ');
  return [render(header), rule, ...lines.map(render)].join('\n');
};

/** The same table in Markdown, to paste into docs/benchmarks.md. */
const renderMarkdown = (header: readonly string[], lines: readonly string[][]): string => {
  const escape = (cell: string): string => cell.replace(/\|/g, '\\|');
  const line = (values: readonly string[]): string => `| ${values.map(escape).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...lines.map(line)].join('\n');
};

export const textTable = (rows: readonly Row[]): string => renderText(HEADER, rows.map(cells));
export const markdownTable = (rows: readonly Row[]): string =>
  renderMarkdown(HEADER, rows.map(cells));
export const checksText = (checks: readonly Check[]): string =>
  renderText(CHECK_HEADER, checks.map(checkCells));
export const checksMarkdown = (checks: readonly Check[]): string =>
  renderMarkdown(CHECK_HEADER, checks.map(checkCells));

/** Non-2xx statuses and their counts, e.g. '503×12'; '' when every answer was 2xx. */
export const failedStatuses = (statusCounts: Readonly<Record<string, number>>): string =>
  Object.entries(statusCounts)
    .filter(([status]) => !status.startsWith('2'))
    .map(([status, count]) => `${status}×${count}`)
    .join(' ');
