import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RISK_CONTROL_CODE_MAX, RISK_CONTROL_CODE_MIN, errorCodes } from '../../api/error-codes';

describe('the error code table', () => {
  const entries = Object.entries(errorCodes);

  it('derives each code from its status (status * 100 + 1..99) outside the risk-control range', () => {
    for (const [name, { status, code }] of entries) {
      const riskControl = code >= RISK_CONTROL_CODE_MIN && code <= RISK_CONTROL_CODE_MAX;
      const derived = Math.floor(code / 100) === status && code % 100 >= 1;
      expect({ name, consistent: riskControl || derived }).toEqual({ name, consistent: true });
    }
  });

  it('never reuses a code and keeps names snake_case', () => {
    const codes = entries.map(([, spec]) => spec.code);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name] of entries) expect(name).toMatch(/^[a-z]+(_[a-z]+)*$/);
  });
});

describe('docs/api.md', () => {
  it('lists every error code with its status and name', () => {
    const doc = readFileSync(join(__dirname, '../../docs/api.md'), 'utf8');
    for (const [name, { status, code }] of Object.entries(errorCodes)) {
      expect({ name, listed: doc.includes(`| ${code} | ${status} | \`${name}\` |`) }).toEqual({
        name,
        listed: true,
      });
    }
  });
});
