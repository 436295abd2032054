/**
 * The base of every error a user can cause or meet: a stable `code`, an optional `cause`, and a
 * message that says what to do about it. It lives in the lowest layer so that every layer's
 * errors can be one (`engine/errors.ts` holds the catalogue and re-exports it);
 * `docs/errors.md` lists every code.
 */
export class SluiceError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A store was used in a way it cannot be: a key that serializes to nothing, a TTL that is not a positive number, a value that is not what the store wrote. */
export class StoreError extends SluiceError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('SLUICE_STORE', message, options);
  }
}
