import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { partitionForKey } from '../../engine/kafka/murmur2.ts';
import { jsonLines, sluice, sluiceSync } from '../helpers/cli.ts';
import { createUniqueTopic, produceRecords, readAll } from '../helpers/kafka.ts';

const text = (b: Buffer | null) => (b === null ? null : b.toString('utf8'));

describe('sluice produce and consume', function () {
  this.timeout(120_000);

  it('places 30 keyed records where murmur2 puts them, as the engine does, and reads them back', async () => {
    const topic = await createUniqueTopic('cli-produce', 6);
    const keys = Array.from({ length: 30 }, (_, i) => `user-${i}`);
    const input = keys.map((key, i) => JSON.stringify({ key, value: { n: i }, headers: { source: 'cli', trace: ['a', 'b'] } })).join('\n') + '\n';
    const produced = sluiceSync(['produce', topic], { input });
    expect(produced.status, produced.stderr).to.equal(0);
    expect(produced.stderr).to.contain(`Produced 30 records to ${topic}.`);

    const records = await readAll(topic);
    expect(records).to.have.length(30);
    for (const record of records) {
      expect(record.partition, text(record.key)!).to.equal(partitionForKey(record.key!, 6));
    }
    // The keys spread, so a placement other than murmur2 would have been caught.
    expect(new Set(records.map((r) => r.partition)).size).to.be.greaterThan(3);
    const first = records.find((r) => text(r.key) === 'user-7')!;
    expect(text(first.value)).to.equal('{"n":7}');
    expect(first.headers!.map((h) => Object.entries(h).map(([k, v]) => [k, v.toString()])[0])).to.deep.equal([['source', 'cli'], ['trace', 'a'], ['trace', 'b']]);

    const consumed = sluiceSync(['consume', topic, '--from-beginning', '--max-messages', '30']);
    expect(consumed.status, consumed.stderr).to.equal(0);
    const lines = jsonLines(consumed.stdout);
    expect(lines).to.have.length(30);
    expect(lines.map((l) => l.key).sort()).to.deep.equal([...keys].sort());
    const line = lines.find((l) => l.key === 'user-7')!;
    expect(line).to.deep.include({ topic, partition: partitionForKey(Buffer.from('user-7'), 6), value: { n: 7 }, headers: { source: 'cli', trace: ['a', 'b'] } });
    expect(line.offset).to.be.a('number');
    expect(line.timestamp).to.be.closeTo(Date.now(), 120_000);
  });

  it('reads plain lines with a key separator from a file, honours partition and timestamp, and stops on a bad line', async () => {
    const topic = await createUniqueTopic('cli-produce', 3);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-produce-'));
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'k1:v=1\r\nk2:two words\n\nk3:a:b\n');
    const plain = sluiceSync(['produce', topic, '--file', path.join(dir, 'plain.txt'), '--key-separator', ':', '--header', 'origin=file']);
    expect(plain.status, plain.stderr).to.equal(0);
    const records = await readAll(topic);
    expect(records.map((r) => [text(r.key), text(r.value)]).sort()).to.deep.equal([['k1', 'v=1'], ['k2', 'two words'], ['k3', 'a:b']]);
    expect(records.every((r) => r.headers?.[0]?.origin?.toString() === 'file')).to.equal(true);

    const placed = sluiceSync(['produce', topic], { input: '{"key":"x","value":"y","partition":2,"timestamp":1700000000000}\n{"value":null,"key":"x","partition":2}\n' });
    expect(placed.status, placed.stderr).to.equal(0);
    const consumed = jsonLines(sluiceSync(['consume', topic, '--partition', '2', '--offset', 'earliest', '--timeout-ms', '2000']).stdout);
    const tail = consumed.filter((l) => l.key === 'x');
    expect(tail.map((l) => [l.value, l.timestamp === 1700000000000])).to.deep.equal([['y', true], [null, false]]);

    const bad = sluiceSync(['produce', topic], { input: '{"key":"ok","value":1}\n{"key":"k","vaule":1}\n{"key":"never","value":2}\n' });
    expect(bad.status).to.equal(1);
    expect(bad.stderr).to.contain('Input line 2: unknown field(s) vaule').and.contain('[SLUICE_RECORD_INPUT]');
    expect(bad.stderr).to.contain('1 record before that line were produced');
    const keys = (await readAll(topic)).map((r) => text(r.key));
    expect(keys).to.include('ok');
    expect(keys).to.not.include('never');

    const nowhere = sluiceSync(['produce', topic, '--partition', '3'], { input: '{"value":1}\n' });
    expect(nowhere.stderr).to.contain('--partition 3:').and.contain('has partitions 0 to 2');
    const missing = sluiceSync(['produce', `${topic}-missing`], { input: '{"value":1}\n' });
    expect(missing.stderr).to.contain('does not exist').and.contain('[SLUICE_UNKNOWN_TOPIC]');
  });

  it('round-trips bytes that are not UTF-8, as base64 and through the auto format', async () => {
    const topic = await createUniqueTopic('cli-binary', 1);
    const copy = await createUniqueTopic('cli-binary-copy', 1);
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x41]);
    await produceRecords(topic, [
      { key: 'bin', value: binary, headers: [{ raw: Buffer.from([0xc3, 0x28]) }] },
      { key: 'json', value: '{"a":[1,2]}' },
      { key: 'spaced', value: '{ "a": 1 }' },
      { key: 'quoted', value: '"hi"' },
      { key: 'nullword', value: 'null' },
      { key: 'big', value: '12345678901234567890' },
    ]);
    const auto = sluiceSync(['consume', topic, '--from-beginning', '--max-messages', '6']);
    expect(auto.status, auto.stderr).to.equal(0);
    const lines = jsonLines(auto.stdout);
    expect(lines[0]).to.deep.include({ key: 'bin', value: binary.toString('base64'), valueEncoding: 'base64', headers: { raw: { base64: 'wyg=' } } });
    expect(lines.slice(1).map((l) => l.value)).to.deep.equal([{ a: [1, 2] }, '{ "a": 1 }', '"hi"', 'null', '12345678901234567890']);

    // What consume prints, produce writes back byte for byte.
    const back = sluiceSync(['produce', copy], { input: auto.stdout });
    expect(back.status, back.stderr).to.equal(0);
    const original = await readAll(topic);
    const copied = await readAll(copy);
    expect(copied.map((r) => [r.key, r.value, r.headers])).to.deep.equal(original.map((r) => [r.key, r.value, r.headers]));

    const base64 = sluiceSync(['consume', topic, '--from-beginning', '--max-messages', '1', '--value-format', 'base64']);
    expect(jsonLines(base64.stdout)[0]!.value).to.equal(binary.toString('base64'));
    const plain = sluiceSync(['produce', copy, '--format', 'text', '--value-format', 'base64'], { input: binary.toString('base64') + '\n' });
    expect(plain.status, plain.stderr).to.equal(0);
    expect((await readAll(copy)).at(-1)!.value).to.deep.equal(binary);
    const wrong = sluiceSync(['produce', copy, '--value-format', 'base64'], { input: '{"value":"not base64!"}\n' });
    expect(wrong.stderr).to.contain('Input line 1: the value must be a base64 string');
  });

  it('prints only records written after it starts, and stops after --timeout-ms without a record', async () => {
    const topic = await createUniqueTopic('cli-tail', 2);
    await produceRecords(topic, [{ key: 'old', value: 'before' }]);
    const tail = sluice(['consume', topic, '--max-messages', '1', '--timeout-ms', '30000']);
    // Write until the consumer, once it has taken its positions at the end, sees a record.
    let done = false;
    void tail.finally(() => (done = true));
    for (let i = 0; !done && i < 60; i++) {
      await produceRecords(topic, [{ key: 'new', value: `after-${i}` }]);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const result = await tail;
    expect(result.status, result.stderr).to.equal(0);
    expect(jsonLines(result.stdout).map((l) => l.key)).to.deep.equal(['new']);

    const idle = sluiceSync(['consume', topic, '--timeout-ms', '1000']);
    expect(idle.status, idle.stderr).to.equal(0);
    expect(idle.stdout).to.equal('');
    expect(idle.stderr).to.contain('Consumed 0 records.');
  });
});
