import type { ContractContext } from './fixtures';
import { appended, follow, newEvents, newStream } from './fixtures';

/** subscribeToAll: catch-up from a checkpoint, then live, then close and resume. */
export const subscribeCases = ({ store }: ContractContext): void => {
  it('catches up from a checkpoint, goes live, ends on close, resumes, no repeats', async () => {
    const stream = newStream();
    const sent = newEvents(stream, 6);
    await store().append(stream, sent.slice(0, 3), { kind: 'no_stream' });
    const [checkpoint] = await store().readStream(stream, {
      fromRevision: 0,
      direction: 'forwards',
      eventCountMax: 1,
    });
    if (checkpoint === undefined) throw new Error('fixture');
    const ofStream = (event: { stream: string }) => event.stream === stream;

    const subscription = store().subscribeToAll({ afterPosition: checkpoint.position });
    const first = follow(subscription, ofStream);
    await first.until(2);
    await store().append(stream, sent.slice(3, 5), { kind: 'exact', revision: 2 });
    await first.until(4);
    await subscription.close();
    await first.ended();
    expect(first.received.map((event) => event.id)).toEqual(
      sent.slice(1, 5).map((event) => event.id),
    );
    expect(first.received.map((event) => event.revision)).toEqual([1, 2, 3, 4]);

    const lastSeen = first.received[3];
    if (lastSeen === undefined) throw new Error('fixture');
    const resumedSubscription = store().subscribeToAll({ afterPosition: lastSeen.position });
    const resumed = follow(resumedSubscription, ofStream);
    await store().append(stream, sent.slice(5), { kind: 'exact', revision: 4 });
    await resumed.until(1);
    await resumedSubscription.close();
    await resumed.ended();
    expect(resumed.received.map((event) => event.id)).toEqual([sent[5]?.id]);
  });

  it('ends a pending iteration when the subscription is closed', async () => {
    const stream = newStream();
    const result = appended(
      await store().append(stream, newEvents(stream, 1), { kind: 'no_stream' }),
    );
    const subscription = store().subscribeToAll({ afterPosition: result.lastPosition });
    const following = follow(subscription, () => true);
    await subscription.close();
    await expect(following.ended()).resolves.toBeUndefined();
  });
};
