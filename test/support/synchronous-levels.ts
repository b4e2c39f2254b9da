import type { SqliteDatabase } from '../../adapters/sqlite/open-database';

/**
 * The database seen through a proxy that records, for every run of a statement whose SQL starts
 * with `sqlPrefix`, the connection's `synchronous` setting at that moment (2 = FULL, 1 = NORMAL):
 * the level each such write committed under.
 */
export const watchSynchronousLevels = (
  database: SqliteDatabase,
  sqlPrefix: string,
): { watched: SqliteDatabase; levels: number[] } => {
  const levels: number[] = [];
  const watched = new Proxy(database, {
    get: (target, name, receiver) =>
      name === 'prepare'
        ? (sql: string) => {
            const statement = target.prepare(sql);
            if (!sql.trimStart().startsWith(sqlPrefix)) return statement;
            return new Proxy(statement, {
              get: (inner, key) =>
                key === 'run'
                  ? (...args: unknown[]) => {
                      levels.push(Number(target.pragma('synchronous', { simple: true })));
                      return inner.run(...args);
                    }
                  : (Reflect.get(inner, key, inner) as unknown),
            });
          }
        : (Reflect.get(target, name, receiver) as unknown),
  });
  return { watched, levels };
};
