import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readKeyRingFile, tokenKeysPath } from '../../../adapters/tokens/key-ring-file';
import type { RouteRegistrar } from '../../../api/route-kit';
import { sendOk } from '../../../api/envelope';
import { requireScope } from '../../../api/middleware/require-scope';
import type { TestApp } from './test-app';
import { bearer } from './test-app';

/** Routes guarded by one scope each, answering who called. */
export const scopedRoutes: RouteRegistrar = ({ router }) => {
  router.get('/test/accounts', requireScope('accounts:read'), (ctx) =>
    sendOk(ctx, { clientId: ctx.state.client?.clientId }),
  );
  router.get('/test/transfers', requireScope('transfers:write'), (ctx) => sendOk(ctx, null));
};

/** Gives the client a secret through the admin API; returns it. */
export const issueSecret = async (app: TestApp, clientId: string): Promise<string> => {
  const response = await app
    .http()
    .post(`/v1/clients/${clientId}/secret`)
    .set(bearer(app.keys.admin));
  expect(response.status).toBe(201);
  return response.body.data.clientSecret as string;
};

/** POST /v1/oauth/token with client_secret_basic. */
export const requestToken = (
  app: TestApp,
  clientId: string,
  secret: string,
  form: Record<string, string> = { grant_type: 'client_credentials' },
) =>
  app
    .http()
    .post('/v1/oauth/token')
    .auth(encodeURIComponent(clientId), encodeURIComponent(secret))
    .type('form')
    .send(form);

/** The app's current signing key, read from its key ring file, to forge tokens in tests. */
export const currentSigningKey = (app: TestApp): { kid: string; privateKey: KeyObject } => {
  const [current] = readKeyRingFile(tokenKeysPath(app.dataDir));
  if (current === undefined) throw new Error('no key');
  return { kid: current.kid, privateKey: createPrivateKey(current.privateKeyPem) };
};
