/**
 * Prometheus text expositions of several processes as one: each metric family's help and type
 * once, then every process's samples, each labelled with its process (`thread="0"`, ...), so
 * one scrape of an instance shows all its stream threads and no two series collide.
 */
export function mergeExpositions(parts: ReadonlyArray<{ value: string; text: string }>, label = 'thread'): string {
  const families = new Map<string, { header: string[]; samples: string[] }>();
  for (const { value, text } of parts) {
    let family: { header: string[]; samples: string[] } | undefined;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const header = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (header) {
        const name = header[2]!;
        family = families.get(name);
        if (!family) families.set(name, (family = { header: [], samples: [] }));
        if (family.header.length < 2 && !family.header.some((h) => h.startsWith(`# ${header[1]} `))) family.header.push(line);
        continue;
      }
      if (line.startsWith('#')) continue;
      if (!family) families.set('', (family = { header: [], samples: [] }));
      family.samples.push(labelled(line, label, value));
    }
  }
  const lines: string[] = [];
  for (const { header, samples } of families.values()) lines.push(...header, ...samples);
  return lines.join('\n') + '\n';
}

/** A sample line with one more label, first among its labels. */
function labelled(sample: string, label: string, value: string): string {
  const name = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(sample)?.[0];
  if (name === undefined) return sample;
  const pair = `${label}="${value.replace(/[\\"]/g, '\\$&').replace(/\n/g, '\\n')}"`;
  const rest = sample.slice(name.length);
  return rest.startsWith('{') ? `${name}{${pair}${rest[1] === '}' ? '' : ','}${rest.slice(1)}` : `${name}{${pair}}${rest}`;
}
