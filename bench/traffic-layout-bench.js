// What one read-side unit's user writes cost in SQLite, per changed user, in two layouts (a
// prototype: raw SQL beside the read-model store, not its code): the traffic read model's row per
// user (a narrow WITHOUT ROWID table with the projection's columns and five indexes, a usage-only
// change rewriting the unindexed columns, as the store's updateBodyKept does) against the usage
// counters kept apart, packed 64 users to a row (a BLOB of Float64 pairs per hash bucket, the
// indexed fields left in the per-user table and written only when they change).
// usage (after npm run build): node bench/traffic-layout-bench.js <userCount> <changedCount>
// (defaults 100000 and 80000); CPU is this process's, SQLite included, over 3 units of each
// layout, alternating. Temp files in os.tmpdir(), removed at the end (docs/benchmarks.md,
// "Traffic reports, CPU per record (branch trf, 2026-12-07)").
const { join } = require('node:path');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir, loadavg } = require('node:os');
const Database = require('better-sqlite3');
const { trafficUserHashOf } = require('../dist/domain/traffic/traffic.model');

const USERS = Number(process.argv[2] ?? 100_000);
const CHANGED = Number(process.argv[3] ?? 80_000);
const USERS_PER_BUCKET = 64;
const BUCKETS = Math.ceil(USERS / USERS_PER_BUCKET);
const UNITS = 3;

const open = (dir, name) => {
  const db = new Database(join(dir, name));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('cache_size = -65536');
  return db;
};

const userIds = Array.from({ length: USERS }, (_, index) => `user-${index}`).sort();

const rowsLayout = (dir) => {
  const db = open(dir, 'rows.sqlite');
  db.exec(
    'CREATE TABLE rm_traffic (id TEXT NOT NULL PRIMARY KEY, body TEXT, f_quotaBytes NUMERIC, ' +
      'f_uploadBytes NUMERIC, f_downloadBytes NUMERIC, f_position TEXT, f_updatedAt TEXT, ' +
      'f_expiresAt TEXT, f_userId TEXT, f_exceeded BOOLEAN, f_level NUMERIC, f_group TEXT, ' +
      'f_allowed BOOLEAN) WITHOUT ROWID',
  );
  for (const fields of [
    'f_userId',
    'f_allowed, f_userId',
    'f_exceeded, f_userId',
    'f_allowed, f_level, f_userId',
    'f_allowed, f_group, f_userId',
  ])
    db.exec(
      `CREATE INDEX IF NOT EXISTS i_${fields.replace(/\W+/g, '_')} ON rm_traffic (${fields})`,
    );
  const insert = db.prepare(
    'INSERT INTO rm_traffic VALUES (?, NULL, 0, ?, ?, ?, ?, NULL, ?, 1, 0, ?, 0)',
  );
  db.transaction(() => {
    for (const userId of userIds) insert.run(userId, 1, 1, '1', 'x', userId, 'default');
  })();
  const update = db.prepare(
    'UPDATE rm_traffic SET body = ?, f_quotaBytes = ?, f_uploadBytes = ?, f_downloadBytes = ?, ' +
      'f_position = ?, f_updatedAt = ?, f_expiresAt = ? WHERE id = ?',
  );
  return {
    unit: (changed, round) =>
      db.transaction(() => {
        for (const userId of changed)
          update.run(
            null,
            0,
            round * 7,
            round * 3,
            `${round}`,
            '2026-12-07T00:00:00.000Z',
            null,
            userId,
          );
      })(),
    close: () => db.close(),
  };
};

const bucketsLayout = (dir) => {
  const db = open(dir, 'buckets.sqlite');
  db.exec('CREATE TABLE rm_traffic_usage (bucket INTEGER PRIMARY KEY, position TEXT, counts BLOB)');
  // Each user's place in its bucket: the order of the ids hashed into it.
  const places = new Map();
  const sizes = new Int32Array(BUCKETS);
  for (const userId of userIds) {
    const bucket = trafficUserHashOf(userId) % BUCKETS;
    places.set(userId, [bucket, sizes[bucket]]);
    sizes[bucket] += 1;
  }
  const counts = Array.from(
    { length: BUCKETS },
    (_, bucket) => new Float64Array(sizes[bucket] * 2),
  );
  const insert = db.prepare('INSERT INTO rm_traffic_usage VALUES (?, ?, ?)');
  db.transaction(() => {
    for (let bucket = 0; bucket < BUCKETS; bucket += 1)
      insert.run(bucket, '1', Buffer.from(counts[bucket].buffer));
  })();
  const update = db.prepare(
    'UPDATE rm_traffic_usage SET position = ?, counts = ? WHERE bucket = ?',
  );
  return {
    unit: (changed, round) => {
      const touched = new Uint8Array(BUCKETS);
      for (const userId of changed) {
        const [bucket, place] = places.get(userId);
        counts[bucket][place * 2] = round * 7;
        counts[bucket][place * 2 + 1] = round * 3;
        touched[bucket] = 1;
      }
      db.transaction(() => {
        for (let bucket = 0; bucket < BUCKETS; bucket += 1)
          if (touched[bucket] === 1)
            update.run(`${round}`, Buffer.from(counts[bucket].buffer), bucket);
      })();
    },
    close: () => db.close(),
  };
};

const changedUsers = () => {
  const picked = new Set();
  while (picked.size < CHANGED) picked.add(userIds[Math.floor(Math.random() * USERS)]);
  return [...picked].sort();
};

const dir = mkdtempSync(join(tmpdir(), 'trf-layout-'));
try {
  const layouts = { rows: rowsLayout(dir), buckets: bucketsLayout(dir) };
  const figures = { rows: [], buckets: [] };
  for (let round = 1; round <= UNITS; round += 1) {
    const changed = changedUsers();
    for (const name of ['rows', 'buckets']) {
      const before = process.cpuUsage();
      layouts[name].unit(changed, round);
      const used = process.cpuUsage(before);
      figures[name].push((used.user + used.system) / CHANGED);
    }
  }
  for (const name of ['rows', 'buckets']) {
    layouts[name].close();
    const sorted = [...figures[name]].sort((x, y) => x - y);
    const each = figures[name].map((value) => value.toFixed(2)).join(' / ');
    process.stdout.write(
      `${name}: ${sorted[1].toFixed(2)} µs CPU per changed user (median of ${UNITS} units: ${each}); ` +
        `${USERS} users, ${CHANGED} changed per unit, load ${loadavg()[0].toFixed(2)}\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
