// The query server's dead-letter routes (docs/queries.md#dead-letters): behind the same guards
// as every API route; what they do is in dead-letters.ts.
import type { FastifyInstance } from 'fastify';
import type { DeadLetters } from './dead-letters.ts';
import { QueryError, single } from './query-error.ts';

/** A partition or offset from a path: a whole number of 0 or more. */
function position(text: string, what: string): number {
  if (!/^\d{1,15}$/.test(text)) throw QueryError.badRequest('bad-dead-letter', `The ${what} must be a whole number of 0 or more.`);
  return Number(text);
}

export function installDeadLetterRoutes(app: FastifyInstance, deadLetters: DeadLetters): void {
  app.get<{ Querystring: Record<string, unknown> }>('/v1/dead-letters', async (request) => {
    const query: { topic?: string; limit?: string; cursor?: string } = {};
    for (const name of ['topic', 'limit', 'cursor'] as const) {
      const value = single(request.query, name);
      if (value !== undefined) query[name] = value;
    }
    return deadLetters.list(query);
  });
  app.get<{ Params: { topic: string; partition: string; offset: string } }>('/v1/dead-letters/:topic/:partition/:offset', async (request) => {
    const { topic, partition, offset } = request.params;
    return deadLetters.get({ topic, partition: position(partition, 'partition'), offset: position(offset, 'offset') });
  });
  app.post('/v1/dead-letters/replay', async (request) => deadLetters.replay(request.body));
  app.post('/v1/dead-letters/handled', async (request) => deadLetters.mark(request.body));
}
