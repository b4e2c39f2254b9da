import { createSqliteReconciliationStore } from '../../adapters/reconciliation/sqlite.reconciliation-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { reconciliationStoreContract } from './reconciliation-store.contract';

reconciliationStoreContract('sqlite', () =>
  createSqliteReconciliationStore(openSqliteDatabase(':memory:')),
);
