import net from 'node:net';

/** Sends raw bytes as one request and returns the status code of the answer (0 if none came) and its body. */
export function rawRequest(port: number, request: string | Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1];
      resolve({ status: status ? Number(status) : 0, body: data.slice(data.indexOf('\r\n\r\n') + 4) });
    });
    socket.end(request);
  });
}

/** A JSON answer: status, body and Retry-After. */
export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
  retryAfter: string | null;
}

/** GETs a URL (redirects not followed) and reads its JSON answer. */
export async function getJson(url: string, headers: Record<string, string> = {}): Promise<JsonAnswer> {
  const response = await fetch(url, { redirect: 'manual', headers });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, retryAfter: response.headers.get('retry-after') };
}

/** Sends requests with `concurrency` in flight and returns how many answers had each status (0: no answer). */
export async function sendAll(port: number, requests: readonly string[], concurrency = 16, onAnswer?: (request: string, status: number) => void): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let index = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (index < requests.length) {
        const request = requests[index++]!;
        const { status } = await rawRequest(port, request);
        onAnswer?.(request, status);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
      }
    }),
  );
  return statuses;
}
