import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { expect } from 'chai';
import { defaultHome } from '../../engine/local/home.ts';
import { murmur2, partitionForKey, toPositive } from '../../engine/kafka/murmur2.ts';

const bytes = (s: string) => Buffer.from(s, 'utf8');

describe('murmur2 partitioning', () => {
  // The Java client's own vectors (org.apache.kafka.common.utils.UtilsTest#testMurmur2).
  const published: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];

  for (const [key, hash] of published) {
    it(`hashes "${key}" as the Java client does`, () => {
      expect(murmur2(bytes(key))).to.equal(hash);
    });
  }

  it('hashes the empty key and each tail length (1, 5 and 7 bytes) as the Java client does', () => {
    expect(murmur2(new Uint8Array(0))).to.equal(275646681);
    expect(murmur2(bytes('a'))).to.equal(-1563381124);
    expect(murmur2(bytes('abcde'))).to.equal(461995741);
    expect(murmur2(bytes('abcdefg'))).to.equal(-346467175);
  });

  it('toPositive clears the sign bit instead of negating', () => {
    expect(toPositive(-790332482)).to.equal(1357151166);
    expect(toPositive(-2147483648)).to.equal(0);
    expect(toPositive(5)).to.equal(5);
  });

  // toPositive(murmur2(key)) % partitions, as the Java producer's BuiltInPartitioner computes it.
  const placements: Array<[string, number, number]> = [
    ['21', 6, 0],
    ['foobar', 6, 0],
    ['foobar', 10, 6],
    ['a-little-bit-long-string', 12, 8],
    ['user-42', 7, 1],
    ['order:9f1c', 100, 90],
  ];
  for (const [key, partitions, expected] of placements) {
    it(`places "${key}" in partition ${expected} of ${partitions}`, () => {
      expect(partitionForKey(bytes(key), partitions)).to.equal(expected);
    });
  }

  it('agrees with the Java client on 2,000 generated keys', function () {
    this.timeout(120_000);
    const lib = path.join(defaultHome(), 'kafka', 'lib', '*');
    const source = path.join(import.meta.dirname, 'java', 'JavaPartitioner.java');
    const keys = Array.from({ length: 2000 }, (_, i) => [1 + (i % 97), `key-${i}-${(i * 7919).toString(36)}`] as const);
    const input = keys.map(([p, k]) => `${p}\t${k}`).join('\n') + '\n';
    const java = spawnSync('java', ['-cp', lib, source], { input, encoding: 'utf8', maxBuffer: 1 << 24 });
    expect(java.status, java.stderr).to.equal(0);
    const lines = java.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(keys.length);
    keys.forEach(([partitions, key], i) => {
      const [hash, partition] = lines[i]!.split('\t').map(Number);
      expect(murmur2(bytes(key)), key).to.equal(hash);
      expect(partitionForKey(bytes(key), partitions), key).to.equal(partition);
    });
  });
});
