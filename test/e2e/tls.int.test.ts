import { execFileSync, spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, renameSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { eventually } from '../support/eventually';
import { ADMIN_KEY, freePort } from '../support/service-process';

/**
 * The service on HTTPS with a self-signed certificate (made by `openssl req`): answers with
 * HSTS, the plain listener redirects to HTTPS, and a certificate replaced on disk is served
 * without a restart.
 */
const CLI = join(__dirname, '../../dist/bin/ledger.js');

/** A self-signed certificate for 127.0.0.1 and its key, written to `directory` as name.{crt,key}. */
const selfSigned = (directory: string, name: string, commonName: string) => {
  const certFile = join(directory, `${name}.crt`);
  const keyFile = join(directory, `${name}.key`);
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'pipe' },
  );
  return { certFile, keyFile, pem: readFileSync(certFile, 'utf8') };
};

type Answer = { status: number; headers: Record<string, unknown>; peerFingerprint: string };

/** GET over HTTPS trusting exactly `caPem`; reports the certificate the server presented. */
const getHttps = (port: number, path: string, caPem: string): Promise<Answer> =>
  new Promise((resolve, reject) => {
    const call = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        ca: caPem,
        agent: false,
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      },
      (response) => {
        const socket = response.socket as TLSSocket;
        const peerFingerprint = socket.getPeerCertificate().fingerprint256;
        response.resume();
        response.on('end', () =>
          resolve({ status: response.statusCode ?? 0, headers: response.headers, peerFingerprint }),
        );
      },
    );
    call.on('error', reject);
    call.end();
  });

const getPlain = (port: number, path: string): Promise<Omit<Answer, 'peerFingerprint'>> =>
  new Promise((resolve, reject) => {
    const call = httpRequest({ host: '127.0.0.1', port, path, agent: false }, (response) => {
      response.resume();
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers }),
      );
    });
    call.on('error', reject);
    call.end();
  });

describe('HTTPS', () => {
  jest.setTimeout(60_000);

  it('serves HTTPS with HSTS, redirects plain HTTP and reloads a replaced certificate', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'ledger-tls-'));
    const first = selfSigned(directory, 'served', 'ledger-first');
    const port = await freePort();
    const redirectPort = await freePort();
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: join(directory, 'data'),
        LEDGER_ADMIN_API_KEY: ADMIN_KEY,
        LOG_LEVEL: 'info',
        TLS_CERT_FILE: first.certFile,
        TLS_KEY_FILE: first.keyFile,
        HTTP_REDIRECT_PORT: String(redirectPort),
        HSTS_MAX_AGE_S: '86400',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      const health = await eventually(
        async () => {
          if (child.exitCode !== null) throw new Error(`exited: ${output.join('')}`);
          return getHttps(port, '/v1/health', first.pem);
        },
        { timeoutMs: 20_000, what: 'the service healthy over HTTPS', intervalMs: 100 },
      );
      expect(health.status).toBe(200);
      expect(health.headers['strict-transport-security']).toBe('max-age=86400; includeSubDomains');
      expect(health.peerFingerprint).toBe(new X509Certificate(first.pem).fingerprint256);
      expect(output.join('')).toContain(`"url":"https://127.0.0.1:${port}"`);
      expect((await getHttps(port, '/v1/accounts', first.pem)).status).toBe(200);

      const plain = await getPlain(redirectPort, '/v1/accounts?page_num=2');
      expect(plain.status).toBe(308);
      expect(plain.headers['location']).toBe(`https://127.0.0.1:${port}/v1/accounts?page_num=2`);
      expect(plain.headers['strict-transport-security']).toBeUndefined();

      // Replace the files the way a certificate manager does: written aside, renamed over.
      const second = selfSigned(directory, 'next', 'ledger-second');
      renameSync(second.keyFile, first.keyFile);
      renameSync(second.certFile, first.certFile);
      const secondFingerprint = new X509Certificate(second.pem).fingerprint256;
      const reloaded = await eventually(
        async () => {
          const answer = await getHttps(port, '/v1/health', second.pem);
          return answer.peerFingerprint === secondFingerprint ? answer : undefined;
        },
        { timeoutMs: 15_000, what: 'the new certificate served', intervalMs: 200 },
      );
      expect(reloaded.status).toBe(200);
      await expect(getHttps(port, '/v1/health', first.pem)).rejects.toThrow();
      expect(output.join('')).toContain('tls_reloaded');
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
  });
});
