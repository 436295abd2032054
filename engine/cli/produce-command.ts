import fs from 'node:fs';
import readline from 'node:readline';
import { Command, Option } from 'commander';
import { ConfigError, RecordInputError, UnknownTopicError } from '../errors.ts';
import { KafkaAdmin } from '../kafka/admin.ts';
import type { ConnectionOptions } from '../kafka/config.ts';
import { KafkaProducer } from '../kafka/producer.ts';
import { type ConnectionFlags, resolveConnection, withConnectionOptions } from './connection.ts';
import { collect, integerFlag } from './flags.ts';
import { DATA_FORMATS, type DataFormat, type InputRecord, parseJsonLine, parseTextLine } from './record-lines.ts';

interface ProduceFlags extends ConnectionFlags {
  file?: string;
  format?: 'json' | 'text';
  keySeparator?: string;
  keyFormat: DataFormat;
  valueFormat: DataFormat;
  header?: string[];
  partition?: string;
}

/** Records are flushed in runs of this many, so a large input never queues unbounded. */
const FLUSH_EVERY = 10_000;

/**
 * `sluice produce <topic>`: writes records read from a file or standard input, one a line.
 * Keyed records go to the partition murmur2 gives, as the engine's producer and Java clients
 * place them.
 */
export function produceCommand(): Command {
  return withConnectionOptions(
    new Command('produce')
      .description('write records to a topic from JSON lines (or plain lines) on standard input or a file; keys are placed with murmur2, as Sluice and Java clients place them')
      .argument('<topic>')
      .option('--file <path>', 'read this file instead of standard input')
      .addOption(new Option('--format <format>', 'json: one {"key", "value", "headers", "partition", "timestamp"} object a line; text: each line is a value (default json, or text with --key-separator)').choices(['json', 'text']))
      .option('--key-separator <separator>', 'plain lines hold key<separator>value (implies --format text)')
      .addOption(new Option('--key-format <format>', 'how keys are written: auto (strings as UTF-8, other JSON as JSON), text or base64').choices(DATA_FORMATS).default('auto'))
      .addOption(new Option('--value-format <format>', 'how values are written: auto (strings as UTF-8, other JSON as JSON), text or base64').choices(DATA_FORMATS).default('auto'))
      .addOption(new Option('-H, --header <name=value>', 'a header for every record (repeatable)').argParser(collect))
      .option('--partition <n>', 'write every record to this partition (a line\'s own "partition" wins)'),
  ).action(async (topic: string, flags: ProduceFlags) => {
    const format = flags.format ?? (flags.keySeparator !== undefined ? 'text' : 'json');
    if (format === 'json' && flags.keySeparator !== undefined) throw new ConfigError('--key-separator reads plain lines: use it with --format text, not json.');
    if (flags.keySeparator === '') throw new ConfigError('--key-separator must not be empty.');
    const partition = integerFlag(flags.partition, '--partition', 0);
    const headers = (flags.header ?? []).map((assignment) => {
      const at = assignment.indexOf('=');
      if (at <= 0) throw new ConfigError(`--header takes name=value, not "${assignment}".`);
      return { [assignment.slice(0, at)]: Buffer.from(assignment.slice(at + 1), 'utf8') };
    });
    const formats = { key: flags.keyFormat, value: flags.valueFormat };
    const parse = (text: string, line: number): InputRecord =>
      format === 'json' ? parseJsonLine(text, line, formats) : parseTextLine(text, line, formats, flags.keySeparator);
    const input = flags.file === undefined || flags.file === '-' ? process.stdin : openInput(flags.file);
    const sent = await produceLines(await resolveConnection(flags), topic, input, parse, { partition, headers });
    process.stderr.write(`Produced ${sent} record${sent === 1 ? '' : 's'} to ${topic}.\n`);
  });
}

function openInput(file: string): NodeJS.ReadableStream {
  if (!fs.existsSync(file)) throw new ConfigError(`--file ${file}: no such file.`);
  return fs.createReadStream(file);
}

/**
 * Sends every non-blank line of `input` as a record and waits for the acknowledgements;
 * returns how many were sent. A line that cannot be read stops the run after what came before
 * it is delivered.
 */
async function produceLines(
  connection: ConnectionOptions,
  topic: string,
  input: NodeJS.ReadableStream,
  parse: (text: string, line: number) => InputRecord,
  defaults: { partition?: number; headers: InputRecord['headers'] },
): Promise<number> {
  const partitions = await partitionCount(connection, topic);
  if (defaults.partition !== undefined && defaults.partition >= partitions) {
    throw new ConfigError(`--partition ${defaults.partition}: ${topic} has partitions 0 to ${partitions - 1}.`);
  }
  const producer = await KafkaProducer.connect(connection);
  let sent = 0;
  try {
    // The engine's own placement: murmur2 of the key over the partition count learnt here.
    await producer.loadPartitionCounts([topic]);
    let lineNumber = 0;
    for await (const text of readline.createInterface({ input, crlfDelay: Infinity })) {
      lineNumber++;
      if (text.trim() === '') continue;
      const record = parse(text, lineNumber);
      const partition = record.partition ?? defaults.partition;
      if (partition !== undefined && partition >= partitions) {
        throw new RecordInputError(lineNumber, `partition ${partition} does not exist: ${topic} has partitions 0 to ${partitions - 1}.`);
      }
      producer.send({ topic, key: record.key, value: record.value, partition, timestamp: record.timestamp, headers: [...defaults.headers, ...record.headers] });
      if (++sent % FLUSH_EVERY === 0) await producer.flush();
    }
    await producer.flush();
  } catch (err) {
    if (err instanceof RecordInputError) {
      await producer.flush();
      process.stderr.write(`${sent} record${sent === 1 ? '' : 's'} before that line were produced to ${topic}.\n`);
    }
    throw err;
  } finally {
    await producer.disconnect();
  }
  return sent;
}

async function partitionCount(connection: ConnectionOptions, topic: string): Promise<number> {
  const admin = KafkaAdmin.connect(connection);
  try {
    const [description] = await admin.describeTopics([topic]);
    if (!description) throw new UnknownTopicError(topic);
    return description.partitions;
  } finally {
    admin.disconnect();
  }
}
