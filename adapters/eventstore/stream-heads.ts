import type {
  RecordedEvent,
  StreamHeadInPage,
  StreamHeadsPage,
} from '../../domain/ports/event-store.port';

/**
 * readStreamHeads over events already read (stores that cannot aggregate on the server): the
 * events of `page` up to untilPosition, folded into each stream's last one and count.
 */
export const streamHeadsOf = (
  page: readonly RecordedEvent[],
  untilPosition: bigint,
): StreamHeadsPage => {
  const heads = new Map<string, StreamHeadInPage>();
  let eventCount = 0;
  let lastPosition: bigint | null = null;
  for (const { stream, revision, position, metadata } of page) {
    if (position > untilPosition) break;
    const known = heads.get(stream);
    heads.set(stream, {
      stream,
      revision,
      hash: metadata.hash,
      eventCount: (known?.eventCount ?? 0) + 1,
    });
    eventCount += 1;
    lastPosition = position;
  }
  return { heads: [...heads.values()], eventCount, lastPosition };
};
