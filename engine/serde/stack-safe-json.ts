/**
 * JSON text of a value however deeply it nests. `JSON.stringify` recurses on the call stack and
 * throws "Maximum call stack size exceeded" past a few thousand levels, while `JSON.parse` reads
 * far deeper input: a record that parsed could not be written back. This tries
 * `JSON.stringify` first and, only when it runs out of stack, writes the same text with an
 * explicit stack of its own: the same output (`toJSON`, skipped `undefined`s and functions,
 * `null` for them in arrays and for non-finite numbers, boxed primitives unwrapped), the same
 * TypeErrors (a BigInt, a cycle). No replacer, no indentation.
 *
 * @example
 * ```ts
 * const deep = JSON.parse('['.repeat(20_000) + ']'.repeat(20_000));
 * stringifyJson(deep).length; // 40000
 * ```
 */
export function stringifyJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return stringifyDeep(value);
  }
}

const SKIP = Symbol('skip');
const CONTAINER = Symbol('container');

interface Frame {
  readonly container: object;
  readonly array: boolean;
  readonly keys: string[] | undefined;
  readonly length: number;
  index: number;
  /** Whether something was written into this container yet (a comma goes before the next). */
  written: boolean;
}

/** The same text, written with an explicit stack, in one pass into one list of pieces (exported for its tests). */
export function stringifyDeep(root: unknown): string | undefined {
  const top = toJsonValue('', root);
  const text = scalar(top);
  if (text !== CONTAINER) return text === SKIP ? undefined : text;
  const out: string[] = [];
  const path = new Set<object>();
  const stack: Frame[] = [];
  const open = (container: object): void => {
    if (path.has(container)) throw new TypeError('Converting circular structure to JSON');
    path.add(container);
    const array = Array.isArray(container);
    const keys = array ? undefined : Object.keys(container);
    out.push(array ? '[' : '{');
    stack.push({ container, array, keys, length: array ? (container as unknown[]).length : keys!.length, index: 0, written: false });
  };
  open(top as object);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.index >= frame.length) {
      stack.pop();
      path.delete(frame.container);
      out.push(frame.array ? ']' : '}');
      continue;
    }
    const i = frame.index++;
    const key = frame.array ? String(i) : frame.keys![i]!;
    const value = toJsonValue(key, (frame.container as Record<string, unknown>)[key]);
    const child = scalar(value);
    if (child === SKIP && !frame.array) continue;
    if (frame.written) out.push(',');
    frame.written = true;
    if (!frame.array) out.push(`${JSON.stringify(key)}:`);
    if (child === CONTAINER) open(value as object);
    else out.push(child === SKIP ? 'null' : child);
  }
  return out.join('');
}

/** The value JSON writes for `value` under `key`: its `toJSON`, boxed primitives unwrapped. */
function toJsonValue(key: string, value: unknown): unknown {
  if ((typeof value === 'object' && value !== null) || typeof value === 'bigint') {
    const toJSON = (value as { toJSON?: unknown }).toJSON;
    if (typeof toJSON === 'function') value = toJSON.call(value, key);
  }
  if (value instanceof Number) return Number(value);
  if (value instanceof String) return String(value);
  if (value instanceof Boolean) return value.valueOf();
  return value;
}

/** The text of a value that is not a container, SKIP for what JSON leaves out, CONTAINER otherwise. */
function scalar(value: unknown): string | typeof SKIP | typeof CONTAINER {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      throw new TypeError('Do not know how to serialize a BigInt');
    case 'object':
      return value === null ? 'null' : CONTAINER;
    default:
      return SKIP;
  }
}
