import type { AccountState } from '../../domain/account/account.decider';
import type { AuthenticatedClient } from '../middleware/api-state';

export type OpenedAccount = Exclude<AccountState, { status: 'unopened' }>;

/** Admins and auditors see every account; other clients only the ones they opened. */
export const maySee = (client: AuthenticatedClient, account: OpenedAccount): boolean =>
  client.role === 'admin' || client.role === 'auditor' || account.ownerClientId === client.clientId;
