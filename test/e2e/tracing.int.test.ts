import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { signSandboxCallback } from '../../adapters/channels/sandbox.channel';
import { loadConfig } from '../../bin/config';
import { createLogger } from '../../bin/logger';
import type * as ServiceModule from '../../bin/service';
import { eventually } from '../support/eventually';
import { startNatsServer, type NatsServer } from '../support/nats-server';
import { ADMIN_KEY, freePort, postJson, startServiceProcess } from '../support/service-process';

/**
 * One trace from a sandbox callback to the wallet credit, collected in memory: the service runs
 * in this process (built, from dist/, as its worker threads need) under a tracing SDK whose spans
 * go to an InMemorySpanExporter. The callback carries a caller's traceparent; the server span,
 * the payment command and the ledger's credit (committed with the payment's success) belong to
 * that trace, each the child of the one before, and so does the top-up saga's consumer span
 * handling the success (its parent read from the bus message's traceparent header, which the relay took
 * from the event's metadata). Once over the in-process bus, once over a real nats-server.
 */
const { startService } = require('../../dist/bin/service') as typeof ServiceModule;

const SANDBOX_SECRET = 'tracing-test-sandbox-secret';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN_ID = '00f067aa0ba902b7';
const SIGNAL_TIMEOUT_MS = 20_000;

const exporter = new InMemorySpanExporter();
const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
provider.register();

const parentIdOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;

/** The span's ancestors in the collected spans, nearest first, up to the caller's span id. */
const ancestorNames = (span: ReadableSpan, spans: readonly ReadableSpan[]): string[] => {
  const names: string[] = [];
  let parentId = parentIdOf(span);
  while (parentId !== undefined) {
    if (parentId === CALLER_SPAN_ID) return [...names, 'caller'];
    const parent = spans.find((candidate) => candidate.spanContext().spanId === parentId);
    if (parent === undefined) return [...names, `missing ${parentId}`];
    names.push(parent.name);
    parentId = parentIdOf(parent);
  }
  return names;
};

const runs: [string, boolean][] = [
  ['the in-process bus', false],
  ['NATS JetStream', true],
];

describe.each(runs)(
  'one trace from a sandbox callback to the wallet credit, over %s',
  (_, withNats) => {
    jest.setTimeout(60_000);
    let nats: NatsServer | null = null;
    let dataDir = '';
    let service: Awaited<ReturnType<typeof startService>>;
    let baseUrl = '';
    const logLines: string[] = [];

    beforeAll(async () => {
      exporter.reset();
      if (withNats) nats = await startNatsServer();
      dataDir = mkdtempSync(join(tmpdir(), 'ledger-tracing-'));
      const port = await freePort();
      const config = loadConfig({
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LEDGER_ADMIN_API_KEY: ADMIN_KEY,
        SANDBOX_CALLBACK_SECRET: SANDBOX_SECRET,
        ...(nats === null ? {} : { NATS_URL: nats.url }),
      });
      const stream = new Writable({
        write(chunk: Buffer, _encoding, done) {
          logLines.push(chunk.toString());
          done();
        },
      });
      service = await startService(config, createLogger('info', { stream }));
      baseUrl = `http://127.0.0.1:${port}`;
    });

    afterAll(async () => {
      await service.stop();
      await nats?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    });

    it('links the callback, the payment, the ledger credit and the saga woken in one trace', async () => {
      expect(
        (await postJson(baseUrl, '/v1/accounts', { accountId: 'alice', currency: 'EUR' })).status,
      ).toBe(201);
      const created = await postJson(baseUrl, '/v1/payments', {
        merchantOrderNo: 'order-trace-1',
        amountMinor: 1999,
        currency: 'EUR',
        channel: 'sandbox',
        subject: 'Top-up',
        creditAccountId: 'alice',
      });
      expect(created.status).toBe(201);
      const paymentId = String((created.body.data['payment'] as { paymentId: string }).paymentId);
      const raw = Buffer.from(
        JSON.stringify({
          event: 'payment.succeeded',
          paymentId,
          channelTransactionId: 'sandbox-trace-tx-1',
          amountMinor: 1999,
          currency: 'EUR',
        }),
      );
      const callback = await fetch(`${baseUrl}/v1/channels/sandbox/callbacks`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'sandbox-signature': signSandboxCallback(SANDBOX_SECRET, raw, Date.now()),
          traceparent: `00-${TRACE_ID}-${CALLER_SPAN_ID}-01`,
        },
        body: raw,
      });
      expect(callback.status).toBe(200);
      const answered = callback.headers.get('traceparent') ?? '';
      expect(answered).toMatch(new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
      expect(answered).not.toContain(CALLER_SPAN_ID);

      const inTrace = (): ReadableSpan[] =>
        exporter.getFinishedSpans().filter((span) => span.spanContext().traceId === TRACE_ID);
      // The consumer span ends after the credit's: wait until the credit's ancestry is complete.
      const { credit, spans } = await eventually(
        () => {
          const collected = inTrace();
          const found = collected.find((span) => span.name === 'ledger OpenAccount,CreateTransfer');
          if (found === undefined) return undefined;
          const complete = ancestorNames(found, collected).at(-1) === 'caller';
          return complete ? { credit: found, spans: collected } : undefined;
        },
        { timeoutMs: SIGNAL_TIMEOUT_MS, what: "the wallet credit's span linked to the callback" },
      );
      const server = spans.find((span) => span.kind === SpanKind.SERVER);
      expect(server?.name).toBe('POST /v1/channels/sandbox/callbacks');
      expect(answered).toContain(server?.spanContext().spanId);
      const chain = ancestorNames(credit, spans);
      expect(chain).toEqual([
        'payment RecordChannelResult',
        'POST /v1/channels/sandbox/callbacks',
        'caller',
      ]);
      // The success travels the bus with its trace: the top-up saga's consumer continues it.
      const consumer = await eventually(
        () => {
          const collected = inTrace();
          const found = collected.find((span) => span.name === 'saga_top_up process');
          if (found === undefined) return undefined;
          return ancestorNames(found, collected).at(-1) === 'caller'
            ? { span: found, chain: ancestorNames(found, collected) }
            : undefined;
        },
        { timeoutMs: SIGNAL_TIMEOUT_MS, what: "the top-up saga's consumer span in the trace" },
      );
      expect(consumer.span.kind).toBe(SpanKind.CONSUMER);
      expect(consumer.chain).toEqual([
        'payment RecordChannelResult',
        'POST /v1/channels/sandbox/callbacks',
        'caller',
      ]);
      // The log lines written while the callback was served name its trace.
      const access = logLines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .find(
          (line) =>
            line['message'] === 'http_request' && line['path'] === '/v1/channels/sandbox/callbacks',
        );
      expect(access?.['traceId']).toBe(TRACE_ID);
      const balance = await eventually(
        async () => {
          const response = await fetch(`${baseUrl}/v1/accounts/alice`, {
            headers: { authorization: `Bearer ${ADMIN_KEY}` },
          });
          const body = (await response.json()) as { data: { account: { balanceMinor: number } } };
          return body.data.account.balanceMinor === 1999 ? 1999 : undefined;
        },
        { timeoutMs: SIGNAL_TIMEOUT_MS, what: 'alice credited in the read model' },
      );
      expect(balance).toBe(1999);
    });
  },
);

describe('OTLP export of the built service', () => {
  jest.setTimeout(60_000);

  it('sends the spans of a traced request to OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces', async () => {
    const posts: { path: string; body: string }[] = [];
    const collector = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        posts.push({ path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
        response.setHeader('content-type', 'application/json');
        response.end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const dataDir = mkdtempSync(join(tmpdir(), 'ledger-otlp-'));
    try {
      const service = await startServiceProcess(dataDir, await freePort(), {
        OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
        OTEL_SERVICE_NAME: 'ledger-otlp-test',
      });
      const traceId = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
      const health = await fetch(`${service.baseUrl}/v1/health`, {
        headers: { traceparent: `00-${traceId}-${CALLER_SPAN_ID}-01` },
      });
      expect(health.status).toBe(200);
      expect(health.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-`));
      // The stop flushes the batch: its spans reach the collector before the process exits.
      service.child.kill('SIGTERM');
      await service.exited;
      const exported = await eventually(() => posts.find((post) => post.body.includes(traceId)), {
        timeoutMs: SIGNAL_TIMEOUT_MS,
        what: "the request's span at the collector",
      });
      expect(exported.path).toBe('/v1/traces');
      expect(exported.body).toContain('ledger-otlp-test');
      expect(exported.body).toContain('GET /v1/health');
    } finally {
      await new Promise((resolve) => collector.close(resolve));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
