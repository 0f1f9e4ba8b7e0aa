/**
 * The layers of src/, bottom to top: the one place their order is defined (docs/architecture.md
 * explains each). A module may import its own layer and the layers below it, never one above, and
 * no import cycle is allowed. test/unit/layers.test.ts runs this check with the test suite;
 * `npx depcruise src` runs it by hand.
 */
const LAYERS = [
  // Helpers that know nothing of probes: errors, defaults, durations, addresses, atomic files.
  ['base', ['src/errors.ts', 'src/constants.ts', 'src/util/']],
  // The contracts every layer shares: ProbeSpec, ProbeOutcome, Report.
  ['contracts', ['src/types.ts', 'src/reasons.ts']],
  // This machine: interfaces, routes, resolver, what a single-file executable carries.
  ['system', ['src/platform/', 'src/version.ts']],
  // Network primitives: error classification, dialling, proxy tunnels, target resolution.
  ['net', ['src/net/']],
  // What probes speak: X.509 and revocation, the reflector protocol, media packets and quality.
  ['services', ['src/trust/', 'src/reflector/', 'src/media/']],
  // What each probe kind is, as data: one description per kind, cheap to import (no prober).
  ['kinds', ['src/kinds/']],
  // One prober per kind, loaded when a run has a probe of its kind, and the registry of kinds.
  ['probers', ['src/probers/']],
  // Catalogs: schema (from the kinds' descriptions), strict loading, expansion into probes.
  ['catalog', ['src/catalog/']],
  // Where failed lines break: traces and path-MTU tests after a run.
  ['path', ['src/path/']],
  // The Report model, its pure renderers, and the firewall rules a catalog or a report implies.
  ['report', ['src/report/', 'src/allowlist/']],
  // Scheduling, deadlines, concurrency, the run.
  ['engine', ['src/engine/']],
  // Programs built on the engine: the daemon and the demo lab.
  ['apps', ['src/daemon/', 'src/lab/']],
  // The command line: the only place that sets exit codes.
  ['cli', ['src/cli/']],
];

const esc = (p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') + (p.endsWith('/') ? '' : '$');
const pathsOf = (layers) => layers.flatMap(([, paths]) => paths).map((p) => `^${esc(p)}`);

module.exports = {
  forbidden: [
    { name: 'no-cycle', severity: 'error', comment: 'An import cycle: layers must only point down.', from: {}, to: { circular: true } },
    ...LAYERS.slice(0, -1).map(([name, paths], i) => ({
      name: `${name}-points-down`,
      severity: 'error',
      comment: `The ${name} layer imports only itself and the layers below it (.dependency-cruiser.cjs).`,
      from: { path: pathsOf([[name, paths]]) },
      to: { path: pathsOf(LAYERS.slice(i + 1)) },
    })),
    {
      name: 'every-module-has-a-layer',
      severity: 'error',
      comment: 'A module of src/ outside every layer: add its folder to LAYERS.',
      from: { path: '^src/' },
      to: { path: '^src/', pathNot: pathsOf(LAYERS) },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};

// Not part of depcruise's configuration (it accepts no other keys): for docs and tests.
Object.defineProperty(module.exports, 'LAYERS', { value: LAYERS, enumerable: false });
