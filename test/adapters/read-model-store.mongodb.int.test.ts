import { createMongoReadModelStore } from '../../adapters/readmodels/mongodb.read-model-store';
import { readModelStoreContract } from './read-model-store.contract';

const url = process.env['MONGODB_URL'];
const SKIPPED =
  'MongoDB read-model store contract suite SKIPPED: MONGODB_URL not set (needs a replica set for transactions)';

if (url === undefined || url === '') {
  process.stdout.write(`${SKIPPED}\n`);
  it.skip(SKIPPED, () => undefined);
} else {
  readModelStoreContract('mongodb', () =>
    createMongoReadModelStore({ url, databaseName: 'ledger_read_models_contract' }),
  );
}
