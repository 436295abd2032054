// A query route an operator brings through the extension seam (OperatorScope.addRoute) is served
// by the instance's query server beside its own routes: its handler gets the request and the
// topics its route writes to, resolved by the compiler, and what it writes reaches the topology.
import { expect } from 'chai';
import type { StreamOperator } from '../../engine/dsl/api.ts';
import { QueryError } from '../../engine/iq/query-error.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { createTopic, uniqueName } from '../helpers/kafka.ts';

/** Forwards `notes` to `out`, and takes notes over HTTP too: POST /v1/notes/:key writes `{ text }` to the notes topic. */
const notesOver = (out: string): StreamOperator<string, { text: string }, void> => (notes, scope) => {
  scope.addRoute({
    method: 'POST',
    path: '/v1/notes/:key',
    writesTo: { notes: notes.node },
    handle: async (request, context) => {
      const body = request.body as { text?: unknown } | undefined;
      if (typeof body?.text !== 'string') throw QueryError.badRequest('bad-note', 'A note is { "text": "..." }.');
      const written = await context.write(context.targets.get('notes')!, request.params.key, { text: body.text });
      return { status: 201, body: { written } };
    },
  });
  notes.to(out);
};

describe('query routes from extensions (real broker)', function () {
  this.timeout(120_000);

  it('serves the route, hands it the topics it writes to, and answers its errors as the server does', async () => {
    const prefix = uniqueName('notes');
    const [input, output] = [`${prefix}-in`, `${prefix}-out`];
    for (const topic of [input, output]) await createTopic(topic, 3);
    const app = await startApplication(
      defineApplication({
        applicationId: 'notes',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) => builder.stream<string, { text: string }>(input, { name: 'notes' }).via(notesOver(output)),
      }),
      { commitIntervalMs: 100, http: { port: 0 } },
    );
    try {
      const post = (path: string, body: unknown) => fetch(`${app.endpoint}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const created = await post('/v1/notes/n-1', { text: 'hello' });
      expect(created.status).to.equal(201);
      const { written } = (await created.json()) as { written: { topic: string; partition: number; offset: number } };
      expect(written).to.include({ topic: input, offset: 0 });
      const [record] = await waitForRecords(output, 1);
      expect(text(record!.key)).to.equal('n-1');
      expect(JSON.parse(text(record!.value)!)).to.deep.equal({ text: 'hello' });
      expect(record!.partition).to.equal(written.partition);

      const refused = await post('/v1/notes/n-2', { note: 'no text' });
      expect(refused.status).to.equal(400);
      expect(await refused.json()).to.include({ error: 'bad-note' });
      const elsewhere = await post('/v1/memos/n-3', { text: 'hello' });
      expect(elsewhere.status).to.equal(404);
      expect(await elsewhere.json()).to.include({ error: 'not-found' });
    } finally {
      await app.close();
    }
  });
});
