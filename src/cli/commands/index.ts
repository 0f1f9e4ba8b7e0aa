/** Every command of the command line, in the order `--help` lists them. */
import type { CommandDef } from './command.js';
import { command as catalog } from './catalog.args.js';
import { command as run } from './run.args.js';
import { command as plan } from './plan.args.js';
import { command as list } from './list.args.js';
import { command as validate } from './validate.args.js';
import { command as probe } from './probe.args.js';
import { command as reflect } from './reflect.args.js';
import { command as idle } from './idle.args.js';
import { command as media } from './media.args.js';
import { command as demo } from './demo.args.js';
import { command as daemon } from './daemon.args.js';
import { command as allowlist } from './allowlist.args.js';
import { command as diff } from './diff.args.js';
import { command as match } from './match.args.js';
import { command as completion } from './completion.args.js';
import { command as schema } from './schema.args.js';

export const COMMANDS: readonly CommandDef[] = [catalog, run, plan, list, validate, probe, reflect, idle, media, demo, daemon, allowlist, diff, match, completion, schema];
