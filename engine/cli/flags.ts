import { ConfigError } from '../errors.ts';

/** Repeated flag values, collected in order (commander's argParser for a repeatable flag). */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `key=value` strings as an object; a string without `=` or with an empty key is a {@link ConfigError}. */
export function parseAssignments(assignments: string[], flag: string): Record<string, string> {
  const result: Record<string, string> = {};
  for (const assignment of assignments) {
    const at = assignment.indexOf('=');
    if (at <= 0) throw new ConfigError(`${flag} takes key=value, not "${assignment}".`);
    result[assignment.slice(0, at)] = assignment.slice(at + 1);
  }
  return result;
}

/** A flag's integer of at least `min`, or undefined when the flag is absent. */
export function integerFlag(text: string | undefined, flag: string, min = 1): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
    throw new ConfigError(`${flag} must be an integer of at least ${min}, not "${text}".`);
  }
  return Number(text);
}
