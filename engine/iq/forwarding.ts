import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The header of a request one instance forwards to another. It carries a proof (see
 * {@link ForwardingKey}); a request whose header does not prove itself is answered as any
 * client's.
 */
export const FORWARDED_HEADER = 'x-sluice-forwarded';

/** What was asked, as the proof covers it: the method and the request target (path and query). */
function signed(key: Buffer, method: string, target: string): Buffer {
  return createHmac('sha256', key).update(`${method.toUpperCase()} ${target}`).digest();
}

/**
 * Proves that a forwarded request comes from an instance of the same application. Each instance
 * draws a random key when it starts and publishes it with its announcement on the application's
 * instances topic, which its peers read; a peer that forwards a request signs the method and
 * path with the receiver's key (HMAC-SHA256) and sends the signature in {@link FORWARDED_HEADER}.
 * The receiver checks it in constant time. Whoever cannot read the instances topic cannot make
 * one, and a signature made for one path is worth nothing for another.
 *
 * @example
 * ```ts
 * const key = ForwardingKey.generate();
 * const header = signForwarded(key.published, 'GET', '/v1/stores/counts/keys/k1');
 * key.verify(header, 'GET', '/v1/stores/counts/keys/k1'); // true
 * ```
 */
export class ForwardingKey {
  /** The key as announced to the other instances (base64url). */
  readonly published: string;
  private readonly key: Buffer;

  private constructor(key: Buffer) {
    this.key = key;
    this.published = key.toString('base64url');
  }

  static generate(): ForwardingKey {
    return new ForwardingKey(randomBytes(32));
  }

  /** True when `header` is the signature of this request made with this instance's key. */
  verify(header: string | string[] | undefined, method: string, target: string): boolean {
    if (typeof header !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(header)) return false;
    const given = Buffer.from(header, 'base64url');
    return given.length === 32 && timingSafeEqual(given, signed(this.key, method, target));
  }
}

/** The proof to send with a request forwarded to the instance that published `publishedKey`. */
export function signForwarded(publishedKey: string, method: string, target: string): string {
  return signed(Buffer.from(publishedKey, 'base64url'), method, target).toString('base64url');
}
