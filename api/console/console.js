// The auditor console: plain DOM, no framework, no build step. It calls the same /v1 API with the
// key the auditor typed (kept in sessionStorage: this tab only) and writes every value with
// textContent, never as HTML.
'use strict';

const KEY_ITEM = 'ledger-console-api-key';
const byId = (id) => document.getElementById(id);

const api = async (path) => {
  const response = await fetch(path, {
    headers: { authorization: `Bearer ${sessionStorage.getItem(KEY_ITEM) ?? ''}` },
  });
  const body = await response.json().catch(() => ({ msg: `HTTP ${response.status}` }));
  return { status: response.status, body };
};

const line = (text, className) => {
  const paragraph = document.createElement('p');
  paragraph.textContent = text;
  if (className !== undefined) paragraph.className = className;
  return paragraph;
};

const findingText = (finding) => {
  switch (finding.kind) {
    case 'stream_tail_missing':
      return `Tail missing: ${finding.stream} revisions ${finding.fromRevision}..${finding.toRevision} (signed by checkpoint ${finding.sequence})`;
    case 'stream_rewritten':
      return `Rewritten: ${finding.stream} at revision ${finding.revision} differs from checkpoint ${finding.sequence} (changed at a revision in ${(finding.unchangedUpToRevision ?? -1) + 1}..${finding.revision})`;
    case 'checkpoint_copy_differs':
      return `Checkpoint ${finding.sequence} in the log differs from the checkpoint store's`;
    case 'checkpoint_copy_unknown':
      return `The log holds checkpoint ${finding.sequence}, which the checkpoint store does not`;
    case 'checkpoint_copy_malformed':
      return `Malformed checkpoint copy in the log at revision ${finding.revision}`;
    default:
      return `Log ${finding.kind === 'log_truncated' ? 'truncated' : 'has inserted events'}: checkpoint ${finding.sequence} signed ${finding.eventCountSigned} events up to position ${finding.headPositionSigned}; the log holds ${finding.eventCountFound} up to it and ends at position ${finding.headPositionFound ?? 'none'}`;
  }
};

const showVerification = (report) => {
  const out = byId('verify-result');
  out.replaceChildren(
    line(report.ok ? 'OK' : 'FAILED', report.ok ? 'ok' : 'failed'),
    line(`${report.eventCount} events in ${report.streamCount} streams`),
  );
  if (report.broken !== null)
    out.append(
      line(
        `First broken link: ${report.broken.stream} at revision ${report.broken.revision}`,
        'failed',
      ),
    );
  out.append(
    line(
      report.latestCheckpoint === null
        ? 'No signed checkpoint: a deleted tail or a truncated log cannot be told.'
        : `Latest signed checkpoint: ${report.latestCheckpoint.sequence} of ${report.latestCheckpoint.createdAt}, head position ${report.latestCheckpoint.headPosition}`,
    ),
  );
  const list = document.createElement('ul');
  for (const problem of report.checkpointProblems)
    list.append(line(`Checkpoint ${problem.sequence} untrusted: ${problem.problem}`, 'failed'));
  for (const finding of report.findings) {
    const item = document.createElement('li');
    item.textContent = findingText(finding);
    item.className = 'failed';
    list.append(item);
  }
  out.append(list);
};

const cellsRow = (values, className) => {
  const row = document.createElement('tr');
  for (const value of values) {
    const cell = document.createElement('td');
    cell.textContent = String(value);
    row.append(cell);
  }
  if (className !== undefined) row.className = className;
  return row;
};

/** Totals per currency and Σ = 0, then the daily volume chart. */
const loadSummary = async () => {
  byId('totals-status').textContent = 'Folding the log…';
  const { status, body } = await api('/v1/audit/summary?days=30');
  if (status !== 200) {
    byId('totals-status').textContent = `Totals failed: ${body.msg}`;
    return;
  }
  const { currencies, balanced, openTransferCount, eventCount } = body.data;
  byId('totals')
    .querySelector('tbody')
    .replaceChildren(
      ...currencies.map((totals) =>
        cellsRow(
          [
            totals.currency,
            totals.accountCount,
            BigInt(totals.creditsPostedMinor) + BigInt(totals.creditsPendingMinor),
            BigInt(totals.debitsPostedMinor) + BigInt(totals.debitsPendingMinor),
            `Σ = ${totals.netMinor}`,
          ],
          totals.netMinor === '0' ? 'balanced' : 'unbalanced',
        ),
      ),
    );
  byId('totals-status').textContent =
    `${eventCount} events, ${openTransferCount} open transfers: ` +
    (balanced ? 'balanced (Σ = 0 in every currency)' : 'NOT balanced');
  byId('totals-status').className = balanced ? 'ok' : 'failed';
  drawVolumeChart(byId('volume-chart'), body.data.dailyVolume, body.data.fromDay);
};

const SVG = 'http://www.w3.org/2000/svg';
const COLOURS = ['#1f6feb', '#e36209', '#2da44e', '#8250df', '#bf3989', '#57606a'];
const svgElement = (name, attributes, text) => {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
};

/** One small bar chart per currency (amounts differ in scale between currencies), inline SVG. */
const drawVolumeChart = (container, volumes, fromDay) => {
  const days = [];
  for (let day = new Date(`${fromDay}T00:00:00Z`); days.length < 30;) {
    days.push(day.toISOString().slice(0, 10));
    day = new Date(day.getTime() + 86_400_000);
  }
  const currencies = [...new Set(volumes.map((volume) => volume.currency))].sort();
  if (currencies.length === 0) {
    container.replaceChildren(line('No posted transfer in these days.'));
    return;
  }
  const width = 640;
  const height = 120;
  const barWidth = width / days.length;
  const charts = currencies.map((currency, index) => {
    const amounts = new Map(
      volumes
        .filter((volume) => volume.currency === currency)
        .map((volume) => [volume.day, Number(volume.amountMinor)]),
    );
    const maxAmount = Math.max(...amounts.values(), 1);
    const svg = svgElement('svg', {
      viewBox: `0 0 ${width} ${height + 20}`,
      width,
      height: height + 20,
      role: 'img',
      'aria-label': `daily volume ${currency}`,
      class: 'volume',
      'data-currency': currency,
    });
    svg.append(svgElement('title', {}, `Daily volume in ${currency} (minor units)`));
    days.forEach((day, dayIndex) => {
      const amount = amounts.get(day) ?? 0;
      const barHeight = Math.round((amount / maxAmount) * height);
      const bar = svgElement('rect', {
        x: dayIndex * barWidth + 1,
        y: height - barHeight,
        width: barWidth - 2,
        height: barHeight,
        fill: COLOURS[index % COLOURS.length],
        'data-day': day,
        'data-amount': amount,
      });
      bar.append(svgElement('title', {}, `${day}: ${amount} ${currency}`));
      svg.append(bar);
    });
    svg.append(svgElement('text', { x: 0, y: height + 16, class: 'axis' }, days[0]));
    svg.append(
      svgElement(
        'text',
        { x: width, y: height + 16, 'text-anchor': 'end', class: 'axis' },
        days.at(-1),
      ),
    );
    const figure = document.createElement('figure');
    const caption = document.createElement('figcaption');
    caption.textContent = `${currency}: up to ${maxAmount} minor units a day`;
    figure.append(caption, svg);
    return figure;
  });
  container.replaceChildren(...charts);
};

const loadLastVerify = async () => {
  const { status, body } = await api('/v1/audit/checkpoints/verify/last');
  if (status !== 200) return;
  const last = body.data.verification;
  byId('last-verify').replaceChildren(
    last === null
      ? line('Not verified since the service started.')
      : line(
          `Last verified at ${last.verifiedAt}: ${last.report.ok ? 'OK' : 'FAILED'}` +
            (last.report.broken === null
              ? ''
              : `, first broken link ${last.report.broken.stream} at revision ${last.report.broken.revision}`),
          last.report.ok ? 'ok' : 'failed',
        ),
  );
};

const loadCheckpoint = async () => {
  const { status, body } = await api('/v1/audit/checkpoints/latest');
  const list = byId('checkpoint');
  if (status !== 200) {
    list.replaceChildren(line(`Checkpoint failed: ${body.msg}`, 'error'));
    return;
  }
  const { checkpoint } = body.data;
  if (checkpoint === null) {
    list.replaceChildren(line('No signed checkpoint yet.'));
    return;
  }
  const { body: signed, hash, signature } = checkpoint;
  const entries = [
    ['sequence', signed.sequence],
    ['signed at', signed.createdAt],
    ['head position', signed.headPosition ?? 'none'],
    ['events', signed.eventCount],
    ['streams', signed.streamCount],
    ['Merkle root of the stream heads', signed.streamsRoot],
    ['previous checkpoint hash', signed.previousHash],
    ['hash', hash],
    ['key id', signed.keyId],
    ['Ed25519 signature', signature],
  ];
  list.replaceChildren(
    ...entries.flatMap(([term, value]) => {
      const dt = document.createElement('dt');
      dt.textContent = term;
      const dd = document.createElement('dd');
      dd.textContent = String(value);
      return [dt, dd];
    }),
  );
};

const paging = { streams: 1, streamsTotal: 1, stream: null, events: 1, eventsTotal: 1 };

const loadStreams = async (pageNum) => {
  const category = byId('stream-category').value.trim();
  const query = `page_num=${pageNum}&page_size=20${category === '' ? '' : `&category=${encodeURIComponent(category)}`}`;
  const { status, body } = await api(`/v1/audit/streams?${query}`);
  const rows = byId('streams').querySelector('tbody');
  if (status !== 200) {
    rows.replaceChildren(cellsRow([`Streams failed: ${body.msg}`]));
    return;
  }
  paging.streams = pageNum;
  paging.streamsTotal = Math.max(1, body.data.total_page);
  byId('streams-page').textContent =
    `page ${pageNum} of ${paging.streamsTotal} (${body.data.total_count} streams)`;
  rows.replaceChildren(
    ...body.data.items.map((head) => {
      const row = cellsRow(['', head.revision, head.hash]);
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'link';
      open.textContent = head.stream;
      open.addEventListener('click', () => void loadEvents(head.stream, 1));
      row.firstChild.append(open);
      return row;
    }),
  );
};

const loadEvents = async (stream, pageNum) => {
  const { status, body } = await api(
    `/v1/audit/streams/${encodeURIComponent(stream)}/events?page_num=${pageNum}&page_size=20`,
  );
  byId('stream-view').hidden = false;
  byId('stream-title').textContent = stream;
  const rows = byId('stream-events').querySelector('tbody');
  if (status !== 200) {
    rows.replaceChildren(cellsRow([`Events failed: ${body.msg}`]));
    return;
  }
  paging.stream = stream;
  paging.events = pageNum;
  paging.eventsTotal = Math.max(1, body.data.total_page);
  byId('events-page').textContent =
    `page ${pageNum} of ${paging.eventsTotal} (${body.data.total_count} events)`;
  rows.replaceChildren(
    ...body.data.items.map((event) =>
      cellsRow([
        event.revision,
        event.position,
        event.type,
        event.occurredAt,
        event.previousHash ?? '(genesis)',
        event.hash,
      ]),
    ),
  );
};

const signedIn = async () => {
  const probe = await api('/v1/audit/read-side');
  if (probe.status !== 200) {
    sessionStorage.removeItem(KEY_ITEM);
    byId('sign-in-error').textContent =
      probe.status === 403
        ? 'This key is not an auditor or admin key.'
        : `Sign-in refused: ${probe.body.msg ?? probe.status}`;
    return;
  }
  byId('sign-in-error').textContent = '';
  byId('sign-in-section').hidden = true;
  byId('console').hidden = false;
  byId('who').textContent =
    `an auditor (active read-model generation ${probe.body.data.activeGeneration})`;
  await Promise.all([loadSummary(), loadLastVerify(), loadCheckpoint(), loadStreams(1)]);
};

const wire = () => {
  byId('sign-in').addEventListener('submit', (event) => {
    event.preventDefault();
    sessionStorage.setItem(KEY_ITEM, byId('api-key').value.trim());
    byId('api-key').value = '';
    void signedIn();
  });
  byId('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_ITEM);
    byId('console').hidden = true;
    byId('sign-in-section').hidden = false;
  });
  byId('verify').addEventListener('click', async () => {
    byId('verify-result').replaceChildren(line('Verifying…'));
    const { status, body } = await api('/v1/audit/checkpoints/verify');
    if (status === 200) {
      showVerification(body.data);
      void loadLastVerify();
    } else byId('verify-result').replaceChildren(line(`Verify failed: ${body.msg}`, 'error'));
  });
  byId('balance').addEventListener('submit', async (event) => {
    event.preventDefault();
    const accountId = byId('account-id').value.trim();
    const point = byId('point').value.trim();
    const query = /^[0-9]+$/.test(point) ? `at=${point}` : `asOf=${encodeURIComponent(point)}`;
    const { status, body } = await api(
      `/v1/accounts/${encodeURIComponent(accountId)}/balance?${query}`,
    );
    const out = byId('balance-result');
    if (status !== 200) {
      out.replaceChildren(line(`${status}: ${body.msg}`, 'error'));
      return;
    }
    const { account, position } = body.data;
    out.replaceChildren(
      line(
        `${account.accountId}: balance ${account.balanceMinor} ${account.currency} (available ${account.availableMinor}, pending debits ${account.debitsPendingMinor}, pending credits ${account.creditsPendingMinor}), last event at position ${position ?? 'none'}`,
      ),
    );
  });
  byId('trail-load').addEventListener('click', async () => {
    const { status, body } = await api('/v1/audit/trail?page_size=50');
    const rows = byId('trail').querySelector('tbody');
    if (status !== 200) {
      rows.replaceChildren();
      byId('trail').after(line(`Trail failed: ${body.msg}`, 'error'));
      return;
    }
    rows.replaceChildren(
      ...body.data.items.map((item) => {
        const row = document.createElement('tr');
        for (const value of [
          item.position,
          item.occurredAt,
          item.stream,
          item.revision,
          item.type,
          item.clientId,
          item.role,
        ]) {
          const cell = document.createElement('td');
          cell.textContent = String(value);
          row.append(cell);
        }
        return row;
      }),
    );
  });
  byId('summary-load').addEventListener('click', () => void loadSummary());
  byId('streams-filter').addEventListener('submit', (event) => {
    event.preventDefault();
    void loadStreams(1);
  });
  byId('streams-previous').addEventListener('click', () => {
    if (paging.streams > 1) void loadStreams(paging.streams - 1);
  });
  byId('streams-next').addEventListener('click', () => {
    if (paging.streams < paging.streamsTotal) void loadStreams(paging.streams + 1);
  });
  byId('events-previous').addEventListener('click', () => {
    if (paging.stream !== null && paging.events > 1)
      void loadEvents(paging.stream, paging.events - 1);
  });
  byId('events-next').addEventListener('click', () => {
    if (paging.stream !== null && paging.events < paging.eventsTotal)
      void loadEvents(paging.stream, paging.events + 1);
  });
  if (sessionStorage.getItem(KEY_ITEM) !== null) void signedIn();
};

wire();
