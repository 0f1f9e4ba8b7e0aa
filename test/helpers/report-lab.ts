/**
 * Loopback servers for test/fixtures/reports/lab-report.yaml (issue 6 tests): an HTTP server (the
 * portal line passes), a closed TCP port (signaling is refused), a UDP echo (data-echo passes) and
 * a UDP socket that swallows datagrams (data-silent is open|filtered → inconclusive).
 */
import { createServer, type Server } from 'node:http';
import { createSocket } from 'node:dgram';
import { createServer as createTcpServer } from 'node:net';
import { fileURLToPath } from 'node:url';

export interface LabServers {
  catalog: string;
  ports: { web: number; closed: number; udp: number; silent: number };
  /** `--param NAME=VALUE` arguments for the catalog. */
  args: string[];
  /** Stop the HTTP server only (the portal line then fails), keeping the rest. */
  stopWeb(): Promise<void>;
  close(): Promise<void>;
}

export const LAB_CATALOG = fileURLToPath(new URL('../fixtures/reports/lab-report.yaml', import.meta.url));

export async function startLabServers(): Promise<LabServers> {
  const web: Server = createServer((_req, res) => res.end('ok\n'));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
  const tmp = createTcpServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  const closed = (tmp.address() as { port: number }).port;
  await new Promise<void>((r) => tmp.close(() => r()));
  const echo = createSocket('udp4');
  echo.on('message', (m, ri) => echo.send(m, ri.port, ri.address));
  await new Promise<void>((r) => echo.bind(0, '127.0.0.1', r));
  const silent = createSocket('udp4');
  silent.on('message', () => undefined);
  await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
  const ports = { web: (web.address() as { port: number }).port, closed, udp: echo.address().port, silent: silent.address().port };
  let webOpen = true;
  const stopWeb = async (): Promise<void> => {
    if (!webOpen) return;
    webOpen = false;
    web.closeAllConnections();
    await new Promise<void>((r) => web.close(() => r()));
  };
  return {
    catalog: LAB_CATALOG,
    ports,
    args: ['--param', `web-port=${ports.web}`, '--param', `closed-port=${ports.closed}`, '--param', `udp-port=${ports.udp}`, '--param', `silent-port=${ports.silent}`],
    stopWeb,
    close: async () => {
      await stopWeb();
      await new Promise<void>((r) => echo.close(() => r()));
      await new Promise<void>((r) => silent.close(() => r()));
    },
  };
}
