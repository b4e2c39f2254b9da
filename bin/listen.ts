import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer as createHttpServer, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { Logger } from 'winston';
import type { TlsSettings } from './config';

/**
 * The service's listeners: plain HTTP on PORT, or HTTPS on PORT with the certificate and key
 * from files, reloaded when they change, and optionally a plain listener that redirects to
 * HTTPS. One owner polls the files (a poll, not fs.watch: renames and symlink swaps, as
 * cert-manager and certbot do them, are seen alike) and swaps the server's secure context only
 * for a pair that loads, so a half-replaced pair (new certificate, old key) keeps the old one
 * served until the key follows.
 */
type Listeners = {
  server: Server;
  url: string;
  /** Stops the reload poll and closes the redirect listener (the caller drains `server`). */
  stop: () => Promise<void>;
};

const listening = (server: Server, port: number, host: string): Promise<Server> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });

const closed = (server: Server): Promise<void> =>
  new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });

/** `https://host:port/path` for a plain request, from its Host header; null if that is not a host. */
const redirectTarget = (hostHeader: string | undefined, path: string, httpsPort: number) => {
  try {
    const hostname = new URL(`http://${hostHeader ?? ''}`).hostname;
    if (hostname === '') return null;
    const portPart = httpsPort === 443 ? '' : `:${httpsPort}`;
    return `https://${hostname}${portPart}${path.startsWith('/') ? path : '/'}`;
  } catch {
    return null;
  }
};

const redirectToHttps =
  (httpsPort: number): RequestListener =>
  (request, response) => {
    const target = redirectTarget(request.headers.host, request.url ?? '/', httpsPort);
    response.setHeader('Connection', 'close');
    if (target === null) {
      response.writeHead(400, { 'Content-Type': 'text/plain' }).end('a Host header is needed\n');
      return;
    }
    // 308 keeps the method and body: a POST is not turned into a GET.
    response.writeHead(308, { Location: target, 'Content-Type': 'text/plain' });
    response.end(`use ${target}\n`);
  };

type Pair = { cert: Buffer; key: Buffer; fingerprint: string };

const readPair = async (tls: TlsSettings): Promise<Pair> => {
  const [cert, key] = await Promise.all([readFile(tls.certFile), readFile(tls.keyFile)]);
  const fingerprint = createHash('sha256').update(cert).update(key).digest('hex');
  return { cert, key, fingerprint };
};

export const startListeners = async (options: {
  port: number;
  host: string;
  tls: TlsSettings | null;
  reloadPollMs: number;
  handler: RequestListener;
  logger: Logger;
}): Promise<Listeners> => {
  const { port, host, tls, logger } = options;
  if (tls === null) {
    const server = await listening(createHttpServer(options.handler), port, host);
    return { server, url: `http://${host}:${port}`, stop: () => Promise.resolve() };
  }
  let served = await readPair(tls);
  const httpsServer = createHttpsServer({ cert: served.cert, key: served.key }, options.handler);
  const server = await listening(httpsServer, port, host);
  const redirect =
    tls.httpRedirectPort === null
      ? null
      : await listening(createHttpServer(redirectToHttps(port)), tls.httpRedirectPort, host);
  let failedFingerprint: string | null = null;
  let polling = Promise.resolve();
  const poll = async (): Promise<void> => {
    const next = await readPair(tls);
    if (next.fingerprint === served.fingerprint || next.fingerprint === failedFingerprint) return;
    try {
      createSecureContext({ cert: next.cert, key: next.key });
    } catch (error: unknown) {
      failedFingerprint = next.fingerprint;
      logger.warn('tls_reload_refused', { certFile: tls.certFile, error: String(error) });
      return;
    }
    httpsServer.setSecureContext({ cert: next.cert, key: next.key });
    served = next;
    failedFingerprint = null;
    logger.info('tls_reloaded', { certFile: tls.certFile, keyFile: tls.keyFile });
  };
  const timer = setInterval(() => {
    polling = polling.then(poll).catch((error: unknown) => {
      logger.warn('tls_reload_failed', { certFile: tls.certFile, error: String(error) });
    });
  }, options.reloadPollMs);
  return {
    server,
    url: `https://${host}:${port}`,
    stop: async () => {
      clearInterval(timer);
      await polling;
      if (redirect !== null) await closed(redirect);
    },
  };
};
