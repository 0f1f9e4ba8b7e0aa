/**
 * Entry of the esbuild bundle that becomes the single-file executables (`npm run dist`): registers
 * what the executable embeds, answers the hidden lab-server commands the demo starts itself with,
 * and otherwise runs the CLI. The npm package never loads this file.
 */
import { LAB_DNSD_COMMAND, LAB_SERVE_COMMAND, registerEmbedded, type EmbeddedData } from '../platform/embedded.js';
import { main } from './main.js';

/** Start the bundled CLI with `process.argv` (whose user arguments begin at index 2, in an executable too). */
export async function bundleMain(data: EmbeddedData): Promise<void> {
  registerEmbedded(data);
  const argv = process.argv.slice(2);
  if (argv[0] === LAB_SERVE_COMMAND) {
    const { serveMain } = await import('../lab/serve.js');
    return serveMain(argv[1]);
  }
  if (argv[0] === LAB_DNSD_COMMAND) {
    const { dnsdMain } = await import('../lab/dnsd.js');
    return dnsdMain(argv[1]);
  }
  return main(argv);
}
