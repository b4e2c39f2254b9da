import { createServer, request } from 'node:http';
import type { OutgoingHttpHeaders, RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';

type RawResponse = { status: number; headers: Record<string, unknown>; body: unknown };

/**
 * POSTs with full control over framing (supertest always sends a Content-Length): writes the
 * chunks, ends the request only when `end` is set, and resolves on the first response.
 */
export const rawPost = async (
  listener: RequestListener,
  options: { path: string; headers: OutgoingHttpHeaders; chunks: readonly Buffer[]; end: boolean },
): Promise<RawResponse> => {
  const server = createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    return await new Promise<RawResponse>((resolve, reject) => {
      const outgoing = request(
        { host: '127.0.0.1', port, path: options.path, method: 'POST', headers: options.headers },
        (response) => {
          const parts: Buffer[] = [];
          response.on('data', (part: Buffer) => parts.push(part));
          response.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            resolve({
              status: response.statusCode ?? 0,
              headers: response.headers,
              body: JSON.parse(text),
            });
            outgoing.destroy();
          });
        },
      );
      outgoing.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') reject(error);
      });
      for (const chunk of options.chunks) outgoing.write(chunk);
      if (options.end) outgoing.end();
    });
  } finally {
    server.closeAllConnections();
    server.close();
  }
};
