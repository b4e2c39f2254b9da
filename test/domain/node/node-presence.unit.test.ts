import { createNodePresence, type PresenceChange } from '../../../domain/node/node-presence';

const startMs = Date.parse('2026-03-01T00:00:00.000Z');
const heartbeat = { onlineUserCount: 12, loadPercent: 40, version: '1.2.0' };

const presenceAt = () => {
  let nowMs = startMs;
  const changes: PresenceChange[] = [];
  const presence = createNodePresence({
    nowMs: () => nowMs,
    silentAfterMs: 30_000,
    onChange: (change) => changes.push(change),
  });
  return { presence, changes, advance: (ms: number) => (nowMs += ms) };
};

describe('node presence', () => {
  it('starts unknown, comes online with a heartbeat, and goes silent one ms past the deadline', () => {
    const { presence, changes, advance } = presenceAt();
    expect(presence.view('n1').status).toBe('unknown');
    presence.heartbeat('n1', heartbeat);
    expect(presence.view('n1')).toMatchObject({ status: 'online', onlineUserCount: 12 });
    advance(30_000);
    expect(presence.sweep(['n1'])).toEqual([]);
    advance(1);
    expect(presence.sweep(['n1'])).toEqual([
      { nodeId: 'n1', from: 'online', to: 'silent', lastHeartbeatAt: '2026-03-01T00:00:00.000Z' },
    ]);
    expect(presence.sweep(['n1'])).toEqual([]); // One alert per silence.
    presence.heartbeat('n1', { ...heartbeat, onlineUserCount: 3 });
    expect(changes.map(({ from, to }) => `${from}->${to}`)).toEqual([
      'unknown->online',
      'online->silent',
      'silent->online',
    ]);
    expect(presence.view('n1')).toMatchObject({ status: 'online', onlineUserCount: 3 });
  });

  it('marks silent a registered node not heard from since the start, once the deadline passes', () => {
    const { presence, advance } = presenceAt();
    advance(30_000);
    expect(presence.sweep(['n2'])).toEqual([]);
    advance(1);
    expect(presence.sweep(['n2'])).toEqual([
      { nodeId: 'n2', from: 'unknown', to: 'silent', lastHeartbeatAt: null },
    ]);
    expect(presence.view('n2')).toMatchObject({ status: 'silent', lastHeartbeatAt: null });
  });

  it('counts every one of many concurrent heartbeats, keeps the last, and never moves time back', async () => {
    const { presence, advance } = presenceAt();
    await Promise.all(
      Array.from({ length: 200 }, async (_, index) => {
        await Promise.resolve();
        if (index % 2 === 0) advance(1);
        presence.heartbeat(`n${index % 4}`, { ...heartbeat, onlineUserCount: index });
      }),
    );
    const views = ['n0', 'n1', 'n2', 'n3'].map((nodeId) => presence.view(nodeId));
    expect(views.map((view) => view.heartbeatCount)).toEqual([50, 50, 50, 50]);
    expect(views.map((view) => view.onlineUserCount)).toEqual([196, 197, 198, 199]);
    const lastMs = views.map((view) => Date.parse(view.lastHeartbeatAt ?? '') - startMs);
    expect(lastMs).toEqual([99, 99, 100, 100]);
  });

  it('forgets a retired node', () => {
    const { presence } = presenceAt();
    presence.heartbeat('n1', heartbeat);
    presence.forget('n1');
    expect(presence.view('n1').status).toBe('unknown');
  });
});
