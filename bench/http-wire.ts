import { connect, type Socket } from 'node:net';

/**
 * The HTTP/1.1 client side that the forked load generators (bench/callback-load.ts,
 * bench/credit-load.ts) share: requests serialised once into their exact bytes, keep-alive
 * connections, and the framing of an answer by its `Content-Length`.
 */
export type Delivery = { body: string; headers: Record<string, string> };

/** Headers every request carries besides the delivery's own, as a channel's notifier sends them. */
const COMMON_HEADERS = 'User-Agent: Mozilla/4.0\r\nAccept: */*\r\nConnection: keep-alive\r\n';
const HEAD_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

/** The request line, headers and body of a POST of `delivery` to `url`, as bytes. */
export const requestBytes = (url: URL, { body, headers }: Delivery): Buffer => {
  const bodyBytes = Buffer.from(body, 'utf8');
  const lines = Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  const head =
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\n${COMMON_HEADERS}${lines}` +
    `Content-Length: ${bodyBytes.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), bodyBytes]);
};

/** A TCP connection to the URL's host and port, Nagle off. */
export const openSocket = (url: URL): Promise<Socket> =>
  new Promise((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), noDelay: true });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });

/** What the bytes received so far on a connection with one request in flight hold. */
type Answer =
  | { kind: 'partial' }
  | { kind: 'answer'; status: string; byteCount: number }
  | { kind: 'unframed'; head: string };

/** Frames one answer at the start of `buffer` (no chunked encoding: the service sets a length). */
export const answerOf = (buffer: Buffer): Answer => {
  const headEnd = buffer.indexOf(HEAD_END);
  if (headEnd < 0) return { kind: 'partial' };
  const head = buffer.toString('latin1', 0, headEnd);
  const length = CONTENT_LENGTH.exec(head)?.[1];
  if (length === undefined) return { kind: 'unframed', head };
  const byteCount = headEnd + HEAD_END.length + Number(length);
  if (buffer.length < byteCount) return { kind: 'partial' };
  return { kind: 'answer', status: head.slice(9, 12), byteCount };
};
