#!/usr/bin/env node
/**
 * `npm start`'s build step: runs `tsc -p tsconfig.build.json` only when a source is newer than
 * the last build made here (dist/.build-stamp), so a second start skips the ~25 s compile. The
 * stamp takes the time the build STARTED, so a file saved during a build triggers the next one.
 * `npm run build` always compiles (and leaves no stamp: the next start compiles once more).
 */
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const SOURCE_DIRS = ['domain', 'adapters', 'api', 'projections', 'sagas', 'bin', 'bench'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json'];
const STAMP = join(ROOT, 'dist', '.build-stamp');

/** The newest modification time (ms) of the .ts files under dir, recursively. */
const newestIn = (dir) => {
  let newestMs = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newestMs = Math.max(newestMs, newestIn(path));
    else if (entry.name.endsWith('.ts')) newestMs = Math.max(newestMs, statSync(path).mtimeMs);
  }
  return newestMs;
};

const newestSourceMs = Math.max(
  ...SOURCE_DIRS.map((dir) => newestIn(join(ROOT, dir))),
  ...SOURCE_FILES.map((file) => statSync(join(ROOT, file)).mtimeMs),
);
const stampMs = existsSync(STAMP) ? statSync(STAMP).mtimeMs : null;

if (stampMs !== null && newestSourceMs <= stampMs) {
  process.stderr.write('dist/ is current (no source newer than its last build): not rebuilding\n');
} else {
  const startedAt = new Date();
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: ROOT,
      stdio: 'inherit',
    },
  );
  writeFileSync(STAMP, '');
  utimesSync(STAMP, startedAt, startedAt);
}
