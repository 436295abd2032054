import { TopologyError } from '../errors.ts';

/**
 * Build-time checks of what operators are given, for topology files in plain JavaScript (where
 * no compiler checks them): a wrong argument fails when the topology is built, as a
 * `TopologyError` naming the operator, not when the first record arrives.
 */

/** A callback an operator takes: a function. `what` names it as the documentation does. */
export function requireFunction(operator: string, what: string, value: unknown): void {
  if (typeof value !== 'function') throw new TopologyError(operator, `its ${what} must be a function; got ${shown(value)}.`);
}

/** The topics a source reads: a topic name, or a non-empty list of them. */
export function topicList(operator: string, topics: unknown): string[] {
  const list = typeof topics === 'string' ? [topics] : Array.isArray(topics) ? [...(topics as unknown[])] : undefined;
  if (list === undefined || list.length === 0 || !list.every((t) => typeof t === 'string' && t.length > 0)) {
    throw new TopologyError(operator, `a source reads a topic name or a list of topic names; got ${shown(topics)}.`);
  }
  return list as string[];
}

/** Where a sink writes: a topic name, or a function choosing one per record. */
export function requireTopic(operator: string, topic: unknown): void {
  if (!(typeof topic === 'string' && topic.length > 0) && typeof topic !== 'function') {
    throw new TopologyError(operator, `a sink writes to a topic name or to the topic a function (key, value, context) => topic chooses; got ${shown(topic)}.`);
  }
}

/** An options object an operator needs (a store's, a materialization's). */
export function requireObject(operator: string, what: string, value: unknown): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TopologyError(operator, `it needs ${what}; got ${shown(value)}.`);
}

function shown(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value);
}
