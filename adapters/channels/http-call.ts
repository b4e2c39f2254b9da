import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/**
 * One HTTP exchange with a channel's API over node:http(s) (node:https takes the client
 * certificate WeChat v2 refunds need). Aborted by `signal` (the caller's timeout); the answer is
 * capped, a channel never sends megabytes.
 */
type HttpCall = {
  method: 'GET' | 'POST';
  url: string;
  headers: Readonly<Record<string, string>>;
  body: string | null;
  signal: AbortSignal;
  clientCertificate: { certPem: string; keyPem: string } | null;
};
export type HttpAnswer = {
  status: number;
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
};

const ANSWER_BYTES_MAX = 1024 * 1024;

/** The exchange failed below HTTP (refused, reset, aborted, oversized): always transient. */
export class HttpTransportError extends Error {
  override readonly name = 'HttpTransportError';
}

export const httpCall = (call: HttpCall): Promise<HttpAnswer> =>
  new Promise<HttpAnswer>((resolve, reject) => {
    const url = new URL(call.url);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const tls =
      call.clientCertificate === null
        ? {}
        : { cert: call.clientCertificate.certPem, key: call.clientCertificate.keyPem };
    const outgoing = send(
      url,
      { method: call.method, headers: call.headers, signal: call.signal, ...tls },
      (answer) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        answer.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > ANSWER_BYTES_MAX)
            outgoing.destroy(new HttpTransportError('answer too large'));
          else chunks.push(chunk);
        });
        answer.on('end', () => {
          const headers: Record<string, string | undefined> = {};
          for (const [name, value] of Object.entries(answer.headers))
            headers[name] = Array.isArray(value) ? value.join(', ') : value;
          resolve({
            status: answer.statusCode ?? 0,
            headers,
            body: Buffer.concat(chunks).toString('utf8'),
          });
        });
        answer.on('error', (error) =>
          reject(new HttpTransportError(error.message, { cause: error })),
        );
      },
    );
    outgoing.on('error', (error) =>
      reject(
        error instanceof HttpTransportError
          ? error
          : new HttpTransportError(error.message, { cause: error }),
      ),
    );
    outgoing.end(call.body ?? undefined);
  });

/** 5xx, 429 and 408 are worth a retry; other statuses are the channel's considered answer. */
export const isTransientStatus = (status: number): boolean =>
  status >= 500 || status === 429 || status === 408;
