/** A catalog's parameters are discoverable (issue 15): `netcheck eschat --help`, `netcheck list eschat`, `list --json`. */
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

describe('catalog parameters', () => {
  it('netcheck eschat --help shows each parameter with default, where to find it and an example', async () => {
    const r = await runCli(['eschat', '--help'], { env: { COLUMNS: '200' } });
    expect(r.code).toBe(0);
    const flat = r.stdout.replace(/\s+/g, ' ');
    expect(flat).toContain('Parameters of eschat (ESChat firewall exceptions');
    expect(flat).toMatch(/--signaling-port your ESChat TCP signaling port \(specific to your build\) \(required\)\. Find it in the ESChat Administrative Portal: .* Example: --signaling-port 7400/);
    expect(flat).toMatch(/--data-ports your ESChat UDP data port range \(default 4201-4264\)/);
    expect(flat).toMatch(/--ios-devices .*\(default yes; one of yes, no\)/);
    // Help for the generic command stays as it was.
    const generic = await runCli(['--help']);
    expect(generic.stdout).not.toContain('Parameters of');
  });

  it('netcheck list eschat shows the parameters for a person', async () => {
    const r = await runCli(['list', 'eschat']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('run: netcheck eschat --signaling-port 7400');
    expect(r.stdout).toMatch(/--signaling-port <port> {2}required\n {6}your ESChat TCP signaling port \(specific to your build\)\.\n {6}Find it in the ESChat Administrative Portal.*\n {6}Example: --signaling-port 7400\n/);
    expect(r.stdout).toMatch(/--data-ports <ports> {2}default 4201-4264\n/);
  });

  it('list --json carries defaults, descriptions, help and examples', async () => {
    const r = await runCli(['list', '--json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as { name: string; parameters: Record<string, unknown>[] }[];
    const eschat = rows.find((x) => x.name === 'eschat')!;
    expect(eschat.parameters).toEqual([
      expect.objectContaining({ name: 'signaling-port', type: 'port', required: true, description: expect.stringContaining('signaling port'), help: expect.stringContaining('Administrative Portal'), example: '7400' }),
      expect.objectContaining({ name: 'data-ports', type: 'ports', required: false, default: '4201-4264', description: 'your ESChat UDP data port range' }),
      expect.objectContaining({ name: 'ios-devices', type: 'enum', default: 'yes', values: ['yes', 'no'] }),
    ]);
    const one = await runCli(['list', 'eschat', '--json']);
    expect(JSON.parse(one.stdout)).toEqual(eschat);
  });
});
