/** The folder rules of docs/architecture.md, enforced on every `npm test`. */
const IO_PACKAGES =
  '^(better-sqlite3|@kurrent/kurrentdb-client|mongodb|nats|koa|@koa/router|winston|prom-client|raw-body|commander|node:(fs|net|http|https|child_process|dgram|tls)|fs|net|http|https|child_process)$';
module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      severity: 'error',
      comment: 'domain/ imports nothing outside domain/ but pure libraries (uuid, immutable)',
      from: { path: '^domain/' },
      to: {
        pathNot: '^domain/|(^|/)node_modules/(uuid|immutable)/',
        dependencyTypesNot: ['core'],
      },
    },
    {
      name: 'domain-no-io-core',
      severity: 'error',
      from: { path: '^domain/' },
      to: { path: IO_PACKAGES },
    },
    {
      name: 'adapters-not-across',
      severity: 'error',
      comment: "an adapter never imports another technology's adapter",
      from: { path: '^adapters/([^/]+)/' },
      to: { path: '^adapters/([^/]+)/', pathNot: ['^adapters/$1/', '^adapters/sqlite/'] },
    },
    {
      name: 'adapters-not-upward',
      severity: 'error',
      from: { path: '^adapters/' },
      to: { path: '^(api|bin|sagas|projections)/' },
    },
    {
      name: 'api-not-adapters',
      severity: 'error',
      comment: 'the API sees ports, never adapters',
      from: { path: '^api/' },
      to: { path: '^(adapters|bin|sagas)/' },
    },
    {
      name: 'sagas-not-adapters',
      severity: 'error',
      from: { path: '^sagas/' },
      to: { path: '^(adapters|api|bin)/' },
    },
    {
      name: 'projections-not-adapters',
      severity: 'error',
      from: { path: '^projections/' },
      to: { path: '^(adapters|api|bin|sagas)/' },
    },
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
