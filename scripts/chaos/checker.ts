/**
 * The chaos run's checker: after the run, reads the input back (the truth) and every output,
 * read committed, and records each broken invariant in the violation log.
 *
 * Exactly-once: each output holds one record per input, in order: the echo equals the input
 * partition by partition, each key's sums, maxima and counts are its running values; no
 * transaction is left open in any output, repartition or changelog partition. At-least-once:
 * nothing is lost: the echo holds every input record, each key's last sum is at least its true
 * sum, its last max is its true max and its largest count at least its number of inputs. The
 * async stage's output holds each key's values in order: once each under exactly-once; under
 * at-least-once every one of them, never one before an earlier one (repeats allowed).
 */
import type { ConsumedRecord } from '../../engine/kafka/records.ts';
import { sleep, type ChaosTopics, type RunOptions } from './options.ts';
import { describe, InputTruth, SequenceCheck } from './sequences.ts';
import { TailReader } from './tail-reader.ts';
import type { ViolationLog } from './violations.ts';

/** Records read from each output, and those beyond one per input. */
export interface CheckedOutputs {
  outputs: Record<string, number>;
  extraOutputs: Record<string, number>;
}

export class Checker {
  /** Input records the run produced. */
  private produced = 0;

  constructor(
    private readonly options: RunOptions,
    private readonly applicationId: string,
    private readonly topics: ChaosTopics,
    private readonly violations: ViolationLog,
    private readonly say: (line: string) => void,
  ) {}

  /**
   * Checks every output against the input, read committed. `lastKillAt`: when the last kill
   * ended, since a transaction a killed instance left open is aborted only a while after it.
   */
  async verify(produced: number, lastKillAt: number): Promise<CheckedOutputs> {
    this.produced = produced;
    const eos = this.options.guarantee === 'exactly_once';
    const tails = await TailReader.connect(this.options.bootstrapServers, (line) => this.say(line));
    try {
      if (eos) {
        // Transactions a killed instance left open are aborted by the broker after their timeout.
        const wait = lastKillAt + this.options.transactionGraceMs - Date.now();
        if (wait > 0) {
          this.say(`waiting ${wait} ms (the transaction timeout since the last kill) before looking for open transactions`);
          await sleep(wait);
        }
        const t = this.topics;
        for (const topic of [t.echo, t.sum, t.max, t.count, t.async, ...t.repartitions, ...t.changelogs]) {
          const ends = await tails.watermarks(topic);
          if (ends.length === 0) this.violations.add('transactions.open', () => `${topic} does not exist`);
          for (const e of ends) {
            if (e.stable !== e.high) {
              this.violations.add('transactions.open', () => `${topic}[${e.partition}]: last stable offset ${e.stable} < high watermark ${e.high}`);
            }
          }
        }
      }
      const truth = await this.readInput(tails);
      return await this.checkOutputs(tails, truth, eos);
    } finally {
      await tails.close();
    }
  }

  /** Reads the input back: it is the truth the outputs are checked against. */
  private async readInput(tails: TailReader): Promise<InputTruth> {
    const { keys, partitions } = this.options;
    const truth = new InputTruth(partitions, keys, this.produced);
    let count = 0;
    await tails.readCommitted(this.topics.input, (r) => {
      count++;
      const key = Number(r.key?.toString());
      const value = Number(r.value?.toString());
      const previous = truth.byPartition[r.partition]?.at(-1) ?? 0;
      if (!(Number.isInteger(key) && key >= 0 && key < keys && Number.isInteger(value) && value > previous && value <= this.produced)) {
        this.violations.add('input.notAsProduced', () => `${r.topic}[${r.partition}]@${r.offset}: key ${r.key}, value ${r.value} (previous ${previous})`);
        return;
      }
      truth.add(r.partition, key, value);
    });
    if (count !== this.produced) {
      this.violations.add('input.notAsProduced', () => `the input holds ${count} records; ${this.produced} were produced`, Math.abs(count - this.produced));
    }
    return truth;
  }

  private async checkOutputs(tails: TailReader, truth: InputTruth, eos: boolean): Promise<CheckedOutputs> {
    const { keys } = this.options;
    const outputs: Record<string, number> = {};
    const where = (r: ConsumedRecord) => `${r.topic.slice(this.applicationId.length + 1)}[${r.partition}]@${r.offset}`;

    // The echo, per partition: the input's values, in order, once each.
    const echo = truth.byPartition.map((values) => new SequenceCheck(values));
    outputs.echo = 0;
    await tails.readCommitted(this.topics.echo, (r) => {
      outputs.echo!++;
      const value = Number(r.value?.toString());
      const key = r.key?.toString();
      const check = echo[r.partition];
      const verdict = check && key === String(truth.keyOf(value)) ? check.observe(value) : 'unexpected';
      if (verdict === 'ok' || (!eos && verdict !== 'unexpected')) return;
      this.violations.add(`echo.${verdict}`, () => `${where(r)}: key ${key}, value ${value} (${describe(verdict, value, check)})`);
    });
    echo.forEach((check, partition) => {
      const missing = check.missing();
      if (missing.length > 0) {
        this.violations.add('echo.missing', () => `echo[${partition}] lacks ${missing.length} input value(s), e.g. ${missing.slice(0, 5).join(', ')}`, missing.length);
      }
    });

    // Per key: sums, maxima and counts, one per input, in order. Values increase along a key's
    // inputs, so each expected sequence is strictly increasing.
    const expected = {
      sum: truth.byKey.map((values) => {
        let sum = 0;
        return Float64Array.from(values, (v) => (sum += v));
      }),
      max: truth.byKey.map((values) => Float64Array.from(values)),
      count: truth.byKey.map((values) => Float64Array.from(values, (_, i) => i + 1)),
      async: truth.byKey.map((values) => Float64Array.from(values)),
    };
    for (const output of ['sum', 'max', 'count', 'async'] as const) {
      const checks = expected[output].map((sequence) => new SequenceCheck(sequence));
      outputs[output] = 0;
      await tails.readCommitted(this.topics[output], (r) => {
        outputs[output]!++;
        const key = Number(r.key?.toString());
        const value = Number(r.value?.toString());
        const check = Number.isInteger(key) && key >= 0 && key < keys ? checks[key] : undefined;
        const verdict = check ? check.observe(value) : 'unexpected';
        // At-least-once repeats what was passed on before a crash; the async stage never reorders a key.
        if (verdict === 'ok' || (!eos && (output !== 'async' || verdict === 'duplicate'))) return;
        this.violations.add(`${output}.${verdict}`, () => `${where(r)}: key ${r.key}, ${output} ${value} (${describe(verdict, value, check)})`);
      });
      checks.forEach((check, key) => {
        const sequence = expected[output][key]!;
        const last = sequence.at(-1);
        if (eos || output === 'async') {
          const missing = check.missing();
          if (missing.length > 0) {
            this.violations.add(
              `${output}.missing`,
              () => `key ${key}: ${missing.length} of its ${sequence.length} ${output} updates never came, e.g. ${missing.slice(0, 5).join(', ')}`,
              missing.length,
            );
          }
        } else if (last !== undefined) {
          const seen = `${check.observed} outputs, last ${check.lastValue}, largest ${check.largest}`;
          if (output === 'sum' && !(check.lastValue !== undefined && check.lastValue >= last)) {
            this.violations.add('sum.belowTrueSum', () => `key ${key}: true sum ${last}; ${seen}`);
          }
          if (output === 'max' && check.lastValue !== last) {
            this.violations.add('max.lastNotTrueMax', () => `key ${key}: true max ${last}; ${seen}`);
          }
          if (output === 'count' && !(check.largest !== undefined && check.largest >= last)) {
            this.violations.add('count.belowTrueCount', () => `key ${key}: ${last} inputs; ${seen}`);
          }
        }
      });
    }
    const extraOutputs = Object.fromEntries(Object.entries(outputs).map(([output, n]) => [output, Math.max(0, n - this.produced)]));
    return { outputs, extraOutputs };
  }
}
