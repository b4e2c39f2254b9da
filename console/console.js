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
    if (status === 200) showVerification(body.data);
    else byId('verify-result').replaceChildren(line(`Verify failed: ${body.msg}`, 'error'));
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
  if (sessionStorage.getItem(KEY_ITEM) !== null) void signedIn();
};

wire();
