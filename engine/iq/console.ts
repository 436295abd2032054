// The web console (docs/ui.md): static files from engine/iq/console/, served at /ui/ by the query
// server. The files hold no state, so they load without the bearer token (the page asks for it
// once and sends it with every API call it makes); everything else stays behind the guard.
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { PACKAGE_ROOT } from '../package-root.ts';

// Read from the sources, also when the engine runs compiled.
const FOLDER = path.join(PACKAGE_ROOT, 'engine', 'iq', 'console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The page may load its own files and call its own server, nothing else; no framing, no inline script. */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** The console's files by their path under /ui/, read once: a fixed list, nothing from a request becomes a path. */
function readFiles(): Map<string, { type: string; body: Buffer }> {
  const files = new Map<string, { type: string; body: Buffer }>();
  for (const name of fs.readdirSync(FOLDER).sort()) {
    const type = TYPES[path.extname(name)];
    if (type !== undefined) files.set(`/ui/${name}`, { type, body: fs.readFileSync(path.join(FOLDER, name)) });
  }
  const index = files.get('/ui/index.html');
  if (index) files.set('/ui/', index);
  return files;
}

let cached: Map<string, { type: string; body: Buffer }> | undefined;
const consoleFiles = () => (cached ??= readFiles());

/** True for a GET or HEAD of one of the console's own files (or of `/ui`, which sends to `/ui/`): these need no token. */
export function isConsoleFile(method: string, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return false;
  const pathname = url.split('?')[0]!;
  return pathname === '/ui' || consoleFiles().has(pathname);
}

/** Serves the console under /ui/. */
export function installConsole(app: FastifyInstance): void {
  // Relative, so that the page also works behind a path prefix (a stream thread's /threads/<n>).
  app.get('/ui', async (_request, reply) => reply.code(308).header('location', 'ui/').send({ location: 'ui/' }));
  for (const [route, file] of consoleFiles()) {
    app.get(route, async (_request, reply) => reply.headers(SECURITY_HEADERS).type(file.type).send(file.body));
  }
}
