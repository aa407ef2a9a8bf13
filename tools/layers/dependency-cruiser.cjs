// The layer table of tbuild's architecture: which source folder may import which (see CONTRIBUTING.md).
// A folder with an index.ts is entered only through it from outside, or through its lazy.ts: the parts that load on
// first use, which the modules a build always runs import only with import() (test/integration/start-cost.test.ts
// checks what a build loads); base/ is a shelf of small independent modules, each its own entry, and cli/ is the
// program's entry, imported by nothing.

/** allowed maps a source folder to the folders it may import besides itself. */
const allowed = {
  'base': [],
  'native': ['base'],
  'solver/graph': ['base'],
  'registry': ['base'],
  'cache': ['native', 'base'],
  'executor': ['native', 'base'],
  'solver': ['solver/graph', 'base'],
  'frontend': ['solver/graph', 'base'],
  'exporter': ['cache', 'registry', 'native', 'base'],
  'solver/ops': ['solver', 'solver/graph', 'cache', 'executor', 'registry', 'native', 'base'],
  'controller': ['solver', 'solver/graph', 'solver/ops', 'frontend', 'exporter', 'cache', 'executor', 'registry', 'native', 'base'],
  'remote': ['controller', 'base'],
  'cli': ['controller', 'remote', 'base'],
};

/** entered lists the folders whose index.ts is their only entry from outside. */
const entered = ['cache', 'controller', 'executor', 'exporter', 'frontend', 'native', 'registry', 'remote', 'solver', 'solver/graph', 'solver/ops'];

const folders = Object.keys(allowed);
const esc = (s) => s.replace(/[/.]/g, (c) => `\\${c}`);
/** inFolder matches the files of a folder but not those of a nested folder that is a layer of its own. */
const inFolder = (f) => {
  const nested = folders.filter((g) => g.startsWith(`${f}/`)).map((g) => `${esc(g)}/`);
  return nested.length === 0 ? `^${esc(f)}/` : `^${esc(f)}/(?!${nested.map((n) => n.slice(esc(f).length + 2)).join('|')})`;
};

const layerRules = folders.map((f) => ({
  name: `layer-${f.replace('/', '-')}`,
  comment: `${f}/ may import only ${allowed[f].join(', ') || 'nothing but itself'}`,
  severity: 'error',
  from: { path: inFolder(f) },
  to: {
    path: `^(${['base', 'cli', 'controller', 'frontend', 'solver', 'cache', 'executor', 'exporter', 'registry', 'native', 'remote'].join('|')})/`,
    pathNot: [inFolder(f), ...allowed[f].map(inFolder)],
  },
}));

const entryRules = entered.map((f) => ({
  name: `entry-${f.replace('/', '-')}`,
  comment: `${f}/ is imported from outside only through ${f}/index.ts, or ${f}/lazy.ts for the parts that load on first use`,
  severity: 'error',
  from: { path: '^(base|cli|controller|frontend|solver|cache|executor|exporter|registry|native|remote)/', pathNot: inFolder(f) },
  to: { path: inFolder(f), pathNot: `^${esc(f)}/(index|lazy)\\.ts$` },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    ...entryRules,
    {
      name: 'no-circular',
      comment: 'no module reaches itself through value imports (type-only imports vanish at run time)',
      severity: 'error',
      from: {},
      to: { circular: true, dependencyTypesNot: ['type-only'], viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|test|bench|examples|scripts)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
