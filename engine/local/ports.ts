import net from 'node:net';

/** True when nothing listens on `host:port` and we may bind it. */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** A port the operating system considers free right now. */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host }, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** `preferred` if it is free, otherwise any free port other than those in `avoid`. */
export async function choosePort(preferred: number | undefined, avoid: number[] = [], host = '127.0.0.1'): Promise<number> {
  if (preferred !== undefined && !avoid.includes(preferred) && (await isPortFree(preferred, host))) return preferred;
  for (;;) {
    const port = await freePort(host);
    if (!avoid.includes(port)) return port;
  }
}
