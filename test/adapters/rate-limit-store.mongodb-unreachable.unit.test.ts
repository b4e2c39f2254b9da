import { createServer, type Server } from 'node:net';
import { createMongoRateLimitStore } from '../../adapters/rate-limits/mongodb.rate-limit-store';

/** No MongoDB needed: a loopback port nothing listens on (taken, then released). */
const closedPort = async (): Promise<number> => {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
};

describe('the MongoDB rate-limit store without a server', () => {
  it('refuses to open (the start stops with the error) instead of limiting nothing', async () => {
    const url = `mongodb://127.0.0.1:${await closedPort()}/?directConnection=true`;
    const faults: string[] = [];
    await expect(
      createMongoRateLimitStore({
        url,
        databaseName: 'ledger_rate_limits_unreachable',
        listener: { onFault: (counter) => void faults.push(counter), onRecovered: () => undefined },
        nowMs: Date.now,
      }),
    ).rejects.toThrow(/ECONNREFUSED|Server selection timed out/);
    expect(faults).toEqual([]);
  });
});
