/**
 * What the single-file executables (`npm run dist`) carry inside them instead of beside them: the
 * version, the built-in catalogs and the precompiled catalog validator. An executable has no
 * package folder to read probes/ or package.json from, so its bundle entry registers them here
 * before the CLI starts; an npm install registers nothing and reads its files as before.
 */
import { pathToFileURL } from 'node:url';

/** The data a bundle carries (see scripts/dist.mjs, which generates the call). */
export interface EmbeddedData {
  version: string;
  /** Built-in catalog name → YAML text (probes/NAME.yaml). */
  catalogs: Record<string, string>;
  /** The build's standalone catalog validator (dist/catalog/catalog-validator.cjs). */
  catalogValidator?: unknown;
  /** Its twin that reports every error (`netcheck validate`; dist/catalog/catalog-validator-all.cjs). */
  catalogValidatorAll?: unknown;
}

// esbuild's `define` replaces this name with `true` in the bundle; tsc output never has it set.
declare const __NETCHECK_BUNDLE__: boolean | undefined;

let data: EmbeddedData | undefined;

/** Register the bundle's data; called once by the bundle entry, before the CLI runs. */
export function registerEmbedded(d: EmbeddedData): void {
  data = d;
}

/** The registered data, or undefined when netcheck runs from its npm package folder. */
export function embedded(): EmbeddedData | undefined {
  return data;
}

/** True inside the esbuild bundle (and so inside a single-file executable). */
export function isBundle(): boolean {
  return typeof __NETCHECK_BUNDLE__ !== 'undefined' && __NETCHECK_BUNDLE__ === true;
}

/**
 * Is the module at `moduleUrl` the script node was started with? Lab helpers (serve.js, dnsd.js)
 * double as child-process scripts. In the bundle every module shares the bundle's URL, so the test
 * would fire for all of them at once: there the helpers run through hidden commands instead.
 */
export function isMainModule(moduleUrl: string): boolean {
  return !isBundle() && !!process.argv[1] && moduleUrl === pathToFileURL(process.argv[1]).href;
}

/**
 * A single-file executable (Node SEA): process.execPath is netcheck itself, not node, so a child
 * process of netcheck is started as `execPath COMMAND…` rather than `execPath SCRIPT COMMAND…`.
 */
export function isSea(): boolean {
  if (!isBundle()) return false;
  try {
    const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const sea = get?.('node:sea') as { isSea?: () => boolean } | undefined;
    return !!sea?.isSea?.();
  } catch {
    return false;
  }
}

/**
 * How to start this same netcheck bundle again in a child process (the demo's lab servers and its
 * run inside a namespace): `[execPath]` in an executable, `[node, bundle.cjs]` for a bare bundle,
 * undefined outside a bundle (callers then start node with the script of their choice).
 */
export function bundleSelf(): string[] | undefined {
  if (!isBundle()) return undefined;
  return isSea() || !process.argv[1] ? [process.execPath] : [process.execPath, process.argv[1]];
}

/** Hidden commands of the bundle that stand in for `node dist/lab/serve.js` and `node dist/lab/dnsd.js`. */
export const LAB_SERVE_COMMAND = '__lab-serve';
export const LAB_DNSD_COMMAND = '__lab-dnsd';
