import { SluiceError } from '../sluice-error.ts';

/** A store's LevelDB could not be opened: it is corrupt or held by another process. */
export class StoreOpenError extends SluiceError {
  readonly corrupt: boolean;

  constructor(location: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super('SLUICE_STORE_OPEN', `LevelDB at ${location} could not be opened: ${message}`, { cause });
    this.corrupt = isCorruption(cause) || /corrupt|checksum|bad (block|magic)|MANIFEST|CURRENT/i.test(message + String((cause as { cause?: unknown })?.cause ?? ''));
  }
}

/**
 * A store's files are damaged: LevelDB found corruption while reading or writing them. Not the
 * fault of the operator that asked: the engine wipes the task's store and restores it from its
 * changelog.
 */
export class StoreCorruptedError extends SluiceError {
  readonly store: string;
  readonly location: string;

  constructor(store: string, location: string, cause: unknown) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super('SLUICE_STORE_CORRUPTED', `Store "${store}" at ${location} is damaged (${message}); it will be wiped and restored from its changelog.`, { cause });
    this.store = store;
    this.location = location;
  }
}

/** True for LevelDB's corruption errors (classic-level's code LEVEL_CORRUPTION), or one they caused. */
export function isCorruption(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if ((e as { code?: unknown }).code === 'LEVEL_CORRUPTION') return true;
  }
  return false;
}

/** True when `err`, or an error that caused it, is a {@link StoreCorruptedError}. */
export function findStoreCorruption(err: unknown): StoreCorruptedError | undefined {
  for (let e = err; e instanceof Error; e = e.cause) if (e instanceof StoreCorruptedError) return e;
  return undefined;
}
