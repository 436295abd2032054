import type { RouteContext, RouteRequest, RouteSpec } from '../../iq/routes.ts';
import { QueryError } from '../../iq/query-error.ts';

/** What `POST /v1/stores/{store}/resolutions` accepts: a person's decision on an open conflict. */
export interface ResolutionRequest {
  mutation_id: string;
  entity_type: string;
  entity_id: string;
  /** Per conflicting attribute: `current`, `incoming`, or `{ value }`. */
  choices: Record<string, unknown>;
  resolved_by?: string;
}

/**
 * The query route that takes resolutions of open conflicts over HTTP, one for every
 * `detectConflicts` of a topology: it writes them to the topic the operator reads its
 * resolutions from, keyed by the entity (`entity_type:entity_id`, as the mutations are), so the
 * task that holds the conflict applies them. The answer (202) means the resolution is in the
 * log; its outcome, RESOLVED or REJECTED, comes on the status stream like any other.
 * `writesTo` maps each store of open conflicts to the source node of its resolutions; the
 * operators fill it in as the topology is built.
 */
export function resolutionRoute(): RouteSpec & { writesTo: Record<string, string> } {
  return {
    method: 'POST',
    path: '/v1/stores/:store/resolutions',
    writesTo: {},
    handle: async (request: RouteRequest, context: RouteContext) => {
      const type = request.headers['content-type'];
      if (!/^application\/json\b/.test(typeof type === 'string' ? type : '')) throw new QueryError(415, 'unsupported-media-type', 'Send the resolution as application/json.');
      const store = request.params.store ?? '';
      const target = context.targets.get(store);
      if (!target) throw new QueryError(404, 'no-resolutions', `Store "${store}" is not a store of open conflicts that takes resolutions from a topic.`);
      const body = checkRequest(request.body);
      const resolution = { mutation_id: body.mutation_id, choices: body.choices, resolved_by: body.resolved_by ?? 'http', timestamp: new Date().toISOString() };
      const written = await context.write(target, `${body.entity_type}:${body.entity_id}`, resolution);
      return { status: 202, body: { accepted: true, ...written } };
    },
  };
}

const CHOICE_WORDS = new Set(['current', 'incoming']);

/** Checks a request body; every problem is a 400 that says what is wrong. */
function checkRequest(body: unknown): ResolutionRequest {
  const bad = (message: string) => QueryError.badRequest('bad-resolution', message);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('The body must be a JSON object: { mutation_id, entity_type, entity_id, choices, resolved_by? }.');
  const b = body as Record<string, unknown>;
  for (const field of ['mutation_id', 'entity_type', 'entity_id'] as const) {
    if (typeof b[field] !== 'string' || (b[field] as string).length === 0 || (b[field] as string).length > 1024) throw bad(`${field} must be a non-empty string (at most 1024 characters).`);
  }
  if (b.resolved_by !== undefined && (typeof b.resolved_by !== 'string' || b.resolved_by.length > 256)) throw bad('resolved_by must be a string of at most 256 characters.');
  const choices = b.choices;
  if (!choices || typeof choices !== 'object' || Array.isArray(choices) || Object.keys(choices).length === 0) {
    throw bad('choices must be an object naming each attribute to decide: "current", "incoming" or { "value": ... }.');
  }
  for (const [attribute, choice] of Object.entries(choices)) {
    const isValue = typeof choice === 'object' && choice !== null && !Array.isArray(choice) && Object.keys(choice).length === 1 && 'value' in choice;
    if (!(typeof choice === 'string' && CHOICE_WORDS.has(choice)) && !isValue) throw bad(`choices.${attribute} must be "current", "incoming" or { "value": ... }.`);
  }
  const extra = Object.keys(b).filter((k) => !['mutation_id', 'entity_type', 'entity_id', 'choices', 'resolved_by'].includes(k));
  if (extra.length > 0) throw bad(`Unknown fields: ${extra.join(', ')}.`);
  return b as unknown as ResolutionRequest;
}
