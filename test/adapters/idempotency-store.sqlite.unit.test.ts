import { createSqliteIdempotencyStore } from '../../adapters/idempotency/sqlite.idempotency-store';
import { openSqliteDatabase } from '../../adapters/sqlite/open-database';
import { idempotencyStoreContract } from './idempotency-store.contract';

idempotencyStoreContract('sqlite :memory:', () =>
  Promise.resolve(createSqliteIdempotencyStore(openSqliteDatabase(':memory:'))),
);
