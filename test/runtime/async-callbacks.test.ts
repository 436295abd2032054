import { expect } from 'chai';
import { headerValue } from '../../engine/processors/processor.ts';
import type { Application } from '../../engine/runtime/application.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { childInstances, Instance } from '../helpers/instances.ts';
import { createTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';
import { tempStateDir } from '../helpers/state.ts';

type Reading = { sensor: string; celsius: number };

/** An async callback, as an untyped (JavaScript) topology file can pass one: TypeScript refuses it. */
const untyped = <F>(callback: unknown) => callback as F;

describe('callbacks that return a promise (real broker)', function () {
  this.timeout(120_000);
  const instances = childInstances();

  describe('an async mapValues', () => {
    const prefix = uniqueName('async-map');
    const t = (name: string) => `${prefix}-${name}`;
    const readings = [
      { key: 's1', value: { sensor: 's1', celsius: 21 } },
      { key: 's2', value: { sensor: 's2', celsius: -3 } },
      { key: 's3', value: { sensor: 's3', celsius: 8 } },
    ];
    let app: Application | undefined;
    let state: string | undefined;

    before(async () => {
      for (const name of ['in', 'skipped', 'dead-lettered', 'sync']) await createTopic(t(name), 2);
      const enrich = untyped<(r: Reading) => Reading>(async (r: Reading) => ({ ...r, fahrenheit: (r.celsius * 9) / 5 + 32 }));
      app = await startApplication(
        defineApplication({
          applicationId: 'async-map',
          keySerde: Serdes.string(),
          valueSerde: Serdes.json(),
          topology: (builder) => {
            const input = builder.stream<string, Reading>(t('in'), { name: 'in' });
            input.mapValues(enrich, { name: 'async-skip', onError: 'log-and-continue' }).to(t('skipped'));
            input.mapValues(enrich, { name: 'async-dlq', onError: { deadLetterTopic: t('dlq') } }).to(t('dead-lettered'));
            input.mapValues((r) => ({ ...r, checked: true }), { name: 'sync' }).to(t('sync'));
          },
        }),
      );
      await produceRecords(t('in'), readings.map((r, i) => ({ key: r.key, value: JSON.stringify(r.value), headers: [{ correlation_id: `corr-${i}` }] })));
      // The synchronous sibling saw every record: the application kept processing.
      expect(await waitForRecords(t('sync'), readings.length)).to.have.length(readings.length);
      await waitForRecords(t('dlq'), readings.length);
      state = app.state;
      // Closing commits (and so flushes) everything the records led to.
      await app.close();
      app = undefined;
    });

    after(async () => {
      await app?.close();
    });

    it('is a processing error: under log-and-continue the records are skipped, and nothing (no "{}") is written', async () => {
      expect(state).to.equal('RUNNING');
      expect(await readAll(t('skipped'))).to.deep.equal([]);
      expect(await readAll(t('dead-lettered'))).to.deep.equal([]);
    });

    it('sends the original records to the dead-letter topic, with an AsyncCallbackError that says what to do', async () => {
      const dead = await readAll(t('dlq'));
      expect(dead.map((r) => `${text(r.key)}=${text(r.value)}`).sort()).to.deep.equal(readings.map((r) => `${r.key}=${JSON.stringify(r.value)}`));
      for (const record of dead) {
        expect(headerValue(record.headers, DeadLetterHeaders.operator)).to.equal('async-dlq');
        expect(headerValue(record.headers, DeadLetterHeaders.errorClass)).to.equal('AsyncCallbackError');
        const message = headerValue(record.headers, DeadLetterHeaders.errorMessage)!;
        expect(message).to.contain('Operator "async-dlq": its mapper returned a promise');
        expect(message).to.contain('For asynchronous work use mapValuesAsync');
        expect(message).to.contain('docs/async.md');
        expect(headerValue(record.headers, 'correlation_id')).to.match(/^corr-\d$/);
      }
    });
  });

  it('an async process() whose promise rejects does not end the process; its records are dead-lettered', async () => {
    const prefix = uniqueName('async-process');
    const t = (name: string) => `${prefix}-${name}`;
    for (const name of ['in', 'enriched', 'echo']) await createTopic(t(name), 2);
    const instance = new Instance(prefix, ['test/fixtures/topologies/async-process.ts', '--application-id', prefix, '--state-dir', tempStateDir()], {
      ASYNC_INPUT: t('in'),
      ASYNC_ENRICHED: t('enriched'),
      ASYNC_ECHO: t('echo'),
      ASYNC_DLQ: t('dlq'),
    });
    instances.push(instance);
    await instance.waitUntilRunning();
    const first = Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: JSON.stringify({ n: i }) }));
    await produceRecords(t('in'), first);
    expect(await waitForRecords(t('dlq'), first.length)).to.have.length(first.length);
    expect(await waitForRecords(t('echo'), first.length)).to.have.length(first.length);
    // The promises reject 10 ms after their records were refused; the process lives on and
    // processes what comes next.
    await new Promise((resolve) => setTimeout(resolve, 500));
    await produceRecords(t('in'), [{ key: 'later', value: JSON.stringify({ n: 99 }) }]);
    expect(await waitForRecords(t('echo'), first.length + 1)).to.have.length(first.length + 1);
    expect(instance.child.exitCode, instance.tail()).to.equal(null);
    const dead = await readAll(t('dlq'));
    expect(dead.map((r) => headerValue(r.headers, DeadLetterHeaders.errorClass))).to.deep.equal(Array(first.length + 1).fill('AsyncCallbackError'));
    expect(headerValue(dead[0]!.headers, DeadLetterHeaders.errorMessage)).to.contain('its per-record function returned a promise');
    expect(await readAll(t('enriched'))).to.deep.equal([]);
    instance.child.kill('SIGTERM');
    expect((await instance.exited).code).to.equal(0);
  });
});
