import { expect } from 'chai';
import { ProcessingError } from '../../engine/errors.ts';
import { KafkaAdmin } from '../../engine/kafka/admin.ts';
import { headerValue } from '../../engine/processors/processor.ts';
import { defineApplication } from '../../engine/runtime/definition.ts';
import { DeadLetterHeaders } from '../../engine/runtime/record-errors.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { startApplication, text, waitForRecords } from '../helpers/app.ts';
import { bootstrapServers, createUniqueTopic, produceRecords, readAll, uniqueName } from '../helpers/kafka.ts';

type Payment = { id: number; amount: number };

describe('records that fail', function () {
  this.timeout(120_000);

  it('sends a poison record to the dead-letter topic with its original bytes and the error, and goes on', async () => {
    const input = await createUniqueTopic('poison-in', 3);
    const output = await createUniqueTopic('poison-out', 3);
    const dlq = uniqueName('poison-dlq');
    const app = await startApplication(
      defineApplication({
        applicationId: 'poison',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        onDeserializationError: { deadLetterTopic: dlq },
        topology: (builder) => builder.stream<string, Payment>(input).mapValues((p) => ({ ...p, cents: p.amount * 100 })).to(output),
      }),
    );
    try {
      const poison = Buffer.from([0x7b, 0x22, 0xff, 0x00, 0x61]); // `{"` then bytes that are not JSON
      const good = Array.from({ length: 20 }, (_, i) => ({ key: `p${i}`, value: JSON.stringify({ id: i, amount: i }) }));
      await produceRecords(input, good.slice(0, 10));
      const { KafkaProducer } = await import('../../engine/kafka/producer.ts');
      const producer = await KafkaProducer.connect({ bootstrapServers: bootstrapServers() });
      await producer.loadPartitionCounts([input]);
      producer.send({ topic: input, key: Buffer.from('p-poison'), value: poison, headers: [{ correlation_id: 'corr-poison' }] });
      producer.send({ topic: input, key: Buffer.from('p-after'), value: Buffer.from(JSON.stringify({ id: 99, amount: 1 })) });
      await producer.flush();
      await producer.disconnect();
      await produceRecords(input, good.slice(10));

      const out = await waitForRecords(output, 21);
      expect(out).to.have.length(21);
      expect(out.map((r) => text(r.key)).sort()).to.include.members(['p0', 'p19', 'p-after']);
      const dead = await waitForRecords(dlq, 1);
      expect(dead).to.have.length(1);
      const [record] = dead;
      expect(record!.value).to.deep.equal(poison);
      expect(text(record!.key)).to.equal('p-poison');
      expect(headerValue(record!.headers, 'correlation_id')).to.equal('corr-poison');
      expect(headerValue(record!.headers, DeadLetterHeaders.topic)).to.equal(input);
      expect(Number(headerValue(record!.headers, DeadLetterHeaders.offset))).to.be.at.least(0);
      expect(headerValue(record!.headers, DeadLetterHeaders.partition)).to.match(/^[0-2]$/);
      expect(headerValue(record!.headers, DeadLetterHeaders.stage)).to.equal('deserialization');
      expect(headerValue(record!.headers, DeadLetterHeaders.errorClass)).to.equal('SerdeError');
      expect(headerValue(record!.headers, DeadLetterHeaders.errorMessage)).to.contain('not valid JSON');
    } finally {
      await app.close();
    }
  });

  it('applies per-operator handling to exceptions: dead-letter in one operator, log-and-continue in another', async () => {
    const input = await createUniqueTopic('throw-in', 1);
    const output = await createUniqueTopic('throw-out', 1);
    const dlq = uniqueName('throw-dlq');
    const app = await startApplication(
      defineApplication({
        applicationId: 'throwing',
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) =>
          builder
            .stream<string, Payment>(input)
            .mapValues(
              (p) => {
                if (p.amount < 0) throw new RangeError(`negative amount ${p.amount}`);
                return p;
              },
              { name: 'check-amount', onError: { deadLetterTopic: dlq } },
            )
            .filter(
              (_, p) => {
                if (p.id === 3) throw new Error('id 3 is cursed');
                return true;
              },
              { name: 'curse', onError: 'log-and-continue' },
            )
            .to(output),
      }),
    );
    try {
      await produceRecords(
        input,
        [1, -5, 3, 4, -7, 6].map((amount, i) => ({ key: `k${i}`, value: JSON.stringify({ id: amount === 3 ? 3 : i + 10, amount }) })),
      );
      const out = await waitForRecords(output, 3);
      expect(out.map((r) => JSON.parse(text(r.value)!).amount)).to.deep.equal([1, 4, 6]);
      const dead = await waitForRecords(dlq, 2);
      expect(dead.map((r) => JSON.parse(text(r.value)!).amount)).to.deep.equal([-5, -7]);
      expect(headerValue(dead[0]!.headers, DeadLetterHeaders.operator)).to.equal('check-amount');
      expect(headerValue(dead[0]!.headers, DeadLetterHeaders.stage)).to.equal('processing');
      expect(headerValue(dead[0]!.headers, DeadLetterHeaders.errorClass)).to.equal('RangeError');
      expect(headerValue(dead[0]!.headers, DeadLetterHeaders.errorMessage)).to.equal('negative amount -5');
    } finally {
      await app.close();
    }
  });

  it('stops on "fail" with a ProcessingError, having committed exactly the records before the failing one', async () => {
    const input = await createUniqueTopic('fail-in', 1);
    const output = await createUniqueTopic('fail-out', 1);
    const applicationId = uniqueName('failing');
    await produceRecords(input, [1, 2, 3, 4, 5].map((n) => ({ key: 'k', value: String(n) })));
    const app = await startApplication(
      defineApplication({
        applicationId,
        keySerde: Serdes.string(),
        valueSerde: Serdes.json(),
        topology: (builder) =>
          builder
            .stream<string, number>(input)
            .mapValues(
              (n) => {
                if (n === 4) throw new Error('four is not allowed');
                return n * 10;
              },
              { name: 'times-ten' },
            )
            .to(output),
      }),
      { applicationId },
    );
    let error: unknown;
    await app.finished.catch((err) => (error = err));
    expect(error).to.be.instanceOf(ProcessingError);
    expect((error as ProcessingError).message).to.contain('Operator "times-ten" failed on').and.contain('four is not allowed');
    expect(app.state).to.equal('ERROR');
    expect((await readAll(output)).map((r) => text(r.value))).to.deep.equal(['10', '20', '30']);
    const admin = KafkaAdmin.connect({ bootstrapServers: bootstrapServers() });
    try {
      expect(await admin.groupOffsets(applicationId)).to.deep.equal([{ topic: input, partition: 0, offset: 3 }]);
    } finally {
      admin.disconnect();
    }
  });
});
