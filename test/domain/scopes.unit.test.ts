import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { accessOf, type Grant } from '../../domain/auth/grants';
import { grantedScopes, roleScopes, SCOPE_TABLE, SCOPES } from '../../domain/auth/scopes';

describe('scopes', () => {
  it('docs/api.md lists every scope with its default roles and meaning', () => {
    const doc = readFileSync(join(__dirname, '../../docs/api.md'), 'utf8');
    for (const [scope, { roles, meaning }] of Object.entries(SCOPE_TABLE)) {
      const row = `| \`${scope}\` | ${roles.join(', ')} | ${meaning} |`;
      expect({ scope, listed: doc.includes(row) }).toEqual({ scope, listed: true });
    }
  });

  it('gives an auditor read scopes only, and pii:read to admins alone', () => {
    expect(
      roleScopes('auditor').every((scope) => scope.endsWith(':read') || scope.endsWith(':list')),
    ).toBe(true);
    expect(
      SCOPES.filter((scope) => scope === 'pii:read').flatMap((scope) => SCOPE_TABLE[scope].roles),
    ).toEqual(['admin']);
  });

  it('grants a requested subset, refuses an unknown or unheld scope by name', () => {
    const held = new Set(roleScopes('merchant'));
    expect(grantedScopes('transfers:write accounts:read', held)).toEqual({
      ok: true,
      scopes: ['accounts:read', 'transfers:write'],
    });
    expect(grantedScopes('accounts:read audit:read nope', held)).toEqual({
      ok: false,
      unknownOrRefused: ['audit:read', 'nope'],
    });
    expect(grantedScopes('', held)).toEqual({ ok: false, unknownOrRefused: [] });
    expect(grantedScopes(null, held)).toEqual({ ok: true, scopes: [...held].sort() });
  });

  it('counts a grant until the millisecond before expiresAt, and never a revoked one', () => {
    const grant: Grant = {
      grantId: 'g',
      clientId: 'm',
      scopes: ['audit:read'],
      resources: [],
      grantedBy: 'admin',
      grantedAt: '2026-01-01T00:00:00.000Z',
      expiresAt: '2026-01-02T00:00:00.000Z',
      revokedAt: null,
    };
    const expiresAtMs = Date.parse(grant.expiresAt);
    expect(accessOf('merchant', [grant], expiresAtMs - 1).scopes.has('audit:read')).toBe(true);
    expect(accessOf('merchant', [grant], expiresAtMs).scopes.has('audit:read')).toBe(false);
    const revoked = { ...grant, revokedAt: '2026-01-01T01:00:00.000Z' };
    expect(accessOf('merchant', [revoked], expiresAtMs - 1).scopes.has('audit:read')).toBe(false);
  });
});
