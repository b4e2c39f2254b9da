import { createDrain } from '../../api/drain';
import { bearer, createTestApp } from './support/test-app';

describe('GET /v1/ready', () => {
  it('answers 200 with each check ok, without a key', async () => {
    const api = await createTestApp({
      readiness: [
        { name: 'event_store', run: () => Promise.resolve(null) },
        { name: 'read_side', run: () => Promise.resolve(null) },
      ],
    });
    const response = await api.http().get('/v1/ready');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      code: 0,
      msg: 'ok',
      data: { status: 'ready', checks: { event_store: 'ok', read_side: 'ok' } },
    });
  });

  it('answers 503 not_ready naming every failing check, a thrown one by its message', async () => {
    const api = await createTestApp({
      readiness: [
        {
          name: 'event_store',
          run: () => Promise.reject(new Error('sqlite event store: SQLITE_FULL')),
        },
        { name: 'read_side', run: () => Promise.resolve('12 events behind') },
        { name: 'nats', run: () => Promise.resolve(null) },
      ],
    });
    const response = await api.http().get('/v1/ready');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({
      code: 50304,
      msg: 'not ready: event_store, read_side',
      data: {
        failing: [
          { check: 'event_store', reason: 'sqlite event store: SQLITE_FULL' },
          { check: 'read_side', reason: '12 events behind' },
        ],
        checks: { event_store: 'failing', read_side: 'failing', nats: 'ok' },
      },
    });
    // Liveness does not depend on the checks.
    expect((await api.http().get('/v1/health')).status).toBe(200);
  });
});

describe('the drain gate', () => {
  it('lets requests through until the drain starts, then answers 503 draining with Connection: close', async () => {
    const drain = createDrain();
    const api = await createTestApp({ drain });
    const key = await api.addClient('admin-1', 'admin');
    expect((await api.http().get('/v1/health')).status).toBe(200);
    drain.start();
    const refused = await api.http().get('/v1/clients/admin-1').set(bearer(key));
    expect(refused.status).toBe(503);
    expect(refused.headers['connection']).toBe('close');
    expect(refused.headers['retry-after']).toBe('1');
    expect(refused.body).toEqual({
      code: 50303,
      msg: 'the service is shutting down; retry on a new connection',
      data: null,
    });
  });

  it('calls a listener added after the start at once', () => {
    const drain = createDrain();
    drain.start();
    const calls: string[] = [];
    drain.onStart(() => calls.push('called'));
    expect(calls).toEqual(['called']);
  });
});
