import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Events are read only through their category's codec (parseStored, parseLedgerEvent): a cast
 * to an event type would let a stored event of another shape or version through unchecked. This
 * scans every source file outside test/ for a cast to one of the log's event types (every type
 * named *Event declared in domain/ or sagas/, the envelope types, a type parameter named Event)
 * or to an evolve's parameter.
 */
const ROOT = join(__dirname, '..', '..');
const SOURCE_FOLDERS = ['domain', 'adapters', 'api', 'projections', 'sagas', 'bin', 'bench'];

const sourceFiles = (folder: string): string[] =>
  readdirSync(join(ROOT, folder), { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));

const files = SOURCE_FOLDERS.flatMap(sourceFiles).map((path) => ({
  path: relative(ROOT, path),
  text: readFileSync(path, 'utf8'),
}));

/** The names of the log's event types: declared in the domain and the sagas. */
const eventTypeNames = new Set(
  files
    .filter(({ path }) => path.startsWith('domain/') || path.startsWith('sagas/'))
    .flatMap(({ text }) => [...text.matchAll(/\btype\s+(\w*Event)\b/g)].map((match) => match[1])),
);

const castsIn = (text: string): string[] => {
  const casts = [...text.matchAll(/\bas\s+(?:unknown\s+as\s+)?(\w+)/g)]
    .filter((match) => match[1] === 'Event' || eventTypeNames.has(match[1]))
    .map((match) => match[0]);
  const evolveParameters = [...text.matchAll(/\bas\s+Parameters<typeof\s+[\w.]+>/g)].map(
    (match) => match[0],
  );
  return [...casts, ...evolveParameters];
};

describe('no cast on an event', () => {
  it('knows the event types it looks for', () => {
    for (const name of [
      'PaymentEvent',
      'ItemEvent',
      'TransferEvent',
      'AccountEvent',
      'ChannelLogEvent',
      'RecordedEvent',
      'StoredEvent',
      'LedgerEvent',
      'DomainEvent',
    ])
      expect(eventTypeNames).toContain(name);
  });

  it('finds a cast when there is one', () => {
    expect(castsIn('const e = { type, data } as ItemEvent;')).toEqual(['as ItemEvent']);
    expect(castsIn('return { ...(line as unknown as RecordedEvent) };')).toEqual([
      'as unknown as RecordedEvent',
    ]);
    expect(castsIn('evolve(s, x as Parameters<typeof planAggregate.evolve>[1])')).toEqual([
      'as Parameters<typeof planAggregate.evolve>',
    ]);
    expect(castsIn('({ type: stored.type, data: stored.data }) as Event')).toEqual(['as Event']);
    expect(castsIn('const body = JSON.parse(text) as StoredResponse;')).toEqual([]);
  });

  it('finds none in the sources outside test/', () => {
    const found = files.flatMap(({ path, text }) =>
      castsIn(text).map((cast) => `${path}: ${cast}`),
    );
    expect(found).toEqual([]);
  });
});
