import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The alerting rules shipped in docs/alerts: `promtool check rules` accepts them, and `promtool
 * test rules` replays recorded series against them, each rule firing above its threshold and not
 * below it (docs/alerts/ledger-alerts.test.yml), and every rule has a firing test.
 */
const PROMTOOL = process.env['PROMTOOL_BIN'] ?? 'promtool';
const ALERTS_DIR = join(__dirname, '../../docs/alerts');
const RULES_FILE = join(ALERTS_DIR, 'ledger-alerts.yml');
const TESTS_FILE = join(ALERTS_DIR, 'ledger-alerts.test.yml');

const promtool = (args: string[]): { status: number | null; output: string } => {
  const run = spawnSync(PROMTOOL, args, { cwd: ALERTS_DIR, encoding: 'utf8' });
  if (run.error !== undefined)
    throw new Error(
      `${PROMTOOL} did not run (${run.error.message}): install Debian's prometheus package, as .ci/run does`,
    );
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
};

const alertNamesIn = (file: string, pattern: RegExp): Set<string> =>
  new Set([...readFileSync(file, 'utf8').matchAll(pattern)].map((match) => match[1] ?? ''));

describe('the alerting rules in docs/alerts', () => {
  jest.setTimeout(30_000);

  it('pass promtool check rules', () => {
    const checked = promtool(['check', 'rules', RULES_FILE]);
    expect(checked).toEqual({
      status: 0,
      output: expect.stringContaining('SUCCESS: 15 rules found'),
    });
  });

  it('fire above their thresholds and stay silent below them (promtool test rules)', () => {
    const tested = promtool(['test', 'rules', TESTS_FILE]);
    expect(tested).toEqual({ status: 0, output: expect.stringContaining('SUCCESS') });
  });

  it('has a firing test for every rule', () => {
    const rules = alertNamesIn(RULES_FILE, /^\s+- alert: (\w+)$/gm);
    const firing = readFileSync(TESTS_FILE, 'utf8')
      .split(/\n(?=\s+- eval_time:)/)
      .filter((block) => block.includes('exp_alerts:'))
      .map((block) => /alertname: (\w+)/.exec(block)?.[1]);
    expect(new Set(firing)).toEqual(rules);
  });
});
