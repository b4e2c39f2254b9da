import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local stand-in for a channel's API (a test double of the remote service), on 127.0.0.1. */
export type FakeRequest = {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
};
export type FakeAnswer =
  { status: number; body: string; headers?: Record<string, string> } | 'hang';

export type FakeChannelServer = {
  baseUrl: string;
  requests: FakeRequest[];
  answer: (handler: (request: FakeRequest) => FakeAnswer) => void;
  close: () => Promise<void>;
};

export const startFakeChannelServer = async (): Promise<FakeChannelServer> => {
  const requests: FakeRequest[] = [];
  let handler: (request: FakeRequest) => FakeAnswer = () => ({ status: 500, body: '' });
  const server: Server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const request = {
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const answer = handler(request);
      if (answer === 'hang') return;
      outgoing.writeHead(answer.status, answer.headers ?? {});
      outgoing.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    answer: (next) => {
      handler = next;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
