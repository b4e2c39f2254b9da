import { ledgerEventOf } from '../../sagas/saga-host';
import type { LedgerEvent } from '../../sagas/saga-definition';
import { transferTimeoutSaga } from '../../sagas/transfer-timeout.saga';
import { createLedger } from '../support/ledger-harness';

const event = (type: string, revision: number, data: LedgerEvent['data'] = {}): LedgerEvent => ({
  id: `e-${type}-${revision}`,
  stream: 'transfer-t1',
  revision,
  type,
  data,
  occurredAt: '2026-11-22T10:00:00.000Z',
});

describe('transfer timeout saga routing', () => {
  const { runtime, transfers } = createLedger();
  const { route } = transferTimeoutSaga({ runtime, transfers, gateways: [] });

  it('starts for a pending transfer with a timeout, and only then', () => {
    const expiresAt = '2026-11-22T10:01:00.000Z';
    expect(route(event('TransferPending', 1, { expiresAt, pendingAt: expiresAt }))).toEqual({
      kind: 'start',
      sagaId: 't1',
      input: { transferId: 't1' },
    });
    expect(route(event('TransferPending', 1, { expiresAt: null, pendingAt: expiresAt }))).toBe(
      null,
    );
  });

  it('wakes the saga when a pending transfer is posted or voided', () => {
    expect(route(event('TransferPosted', 3))).toEqual({ kind: 'wake', sagaId: 't1' });
    expect(route(event('TransferVoided', 3))).toEqual({ kind: 'wake', sagaId: 't1' });
  });

  it('routes nothing for a single-phase post (revision 1), which never had a saga', () => {
    expect(route(event('TransferPosted', 1))).toBe(null);
  });
});

describe('ledgerEventOf', () => {
  const payload = {
    id: 'e1',
    stream: 'transfer-t1',
    revision: 1,
    type: 'TransferPosted',
    data: {},
    occurredAt: '2026-11-22T10:00:00.000Z',
  };

  it('reads the relay payload, revision included', () => {
    expect(ledgerEventOf(payload)).toEqual(payload);
  });

  it.each([
    ['without a revision', { ...payload, revision: null }],
    ['with a negative revision', { ...payload, revision: -1 }],
    ['with a fractional revision', { ...payload, revision: 1.5 }],
    ['with a revision as text', { ...payload, revision: '1' }],
  ])('refuses a payload %s', (_name, broken) => {
    expect(ledgerEventOf(broken)).toBeNull();
  });
});
