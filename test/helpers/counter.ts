import { defineApplication } from '../../engine/runtime/definition.ts';
import { Serdes } from '../../engine/serde/serde.ts';

/** Counts the records of `input` per key into the store "counts" and writes each new count (JSON) to `output`. */
export function counter(input: string, output: string) {
  return defineApplication({
    applicationId: 'counter',
    keySerde: Serdes.string(),
    valueSerde: Serdes.string(),
    topology: (builder) => builder.stream<string, string>(input).groupByKey().count({ name: 'counts' }).toStream().to(output, { value: Serdes.json() }),
  });
}
