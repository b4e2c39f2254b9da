import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { paymentChannelErrorCodes } from '../../api/channel-error-codes';
import { errorCodes } from '../../api/error-codes';

describe('payment-channel error codes', () => {
  const entries = Object.entries(paymentChannelErrorCodes);

  it('stay in this area\u2019s range (ending 90-99), derived from their status, clashing with no other code', () => {
    const others = new Map<number, string>();
    for (const [name, spec] of Object.entries(errorCodes)) others.set(spec.code, name);
    for (const [name, { status, code }] of entries) {
      expect({ name, derived: Math.floor(code / 100) === status, range: code % 100 >= 90 }).toEqual(
        { name, derived: true, range: true },
      );
      expect([name, others.get(Number(code)) ?? name]).toEqual([name, name]);
    }
  });

  it('are listed in docs/api.md', () => {
    const doc = readFileSync(join(__dirname, '../../docs/api.md'), 'utf8');
    for (const [name, { status, code }] of entries)
      expect({ name, listed: doc.includes(`| ${code} | ${status} | \`${name}\` |`) }).toEqual({
        name,
        listed: true,
      });
  });
});
