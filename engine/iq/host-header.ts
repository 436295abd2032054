import net from 'node:net';

/** A Host header read strictly: the host in lower case (an IPv6 address without brackets, in canonical form) and the port, if any. */
export interface HostHeader {
  host: string;
  port?: number;
}

/** RFC 3986 reg-name (unreserved, sub-delims, percent-encoded octets), which also covers IPv4 dotted quads. */
const REG_NAME = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2})+$/;
const PORT = /^:[0-9]{1,5}$/;

/** An IPv6 address in the form URLs give it (`0:0:0:0:0:0:0:1` → `::1`), or undefined. */
function canonicalIPv6(text: string): string | undefined {
  // RFC 3986 has no zone identifiers in a host; IPvFuture is not an address we serve.
  if (text.includes('%') || !net.isIPv6(text)) return undefined;
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/**
 * Reads a Host header as RFC 3986 allows it and nothing more: a reg-name or IPv4 address, or an
 * IPv6 address in brackets, then optionally `:` and a port (1 to 5 digits, at most 65535).
 * Anything else (userinfo such as `localhost:80@evil.example`, text after the brackets as in
 * `[::1]evil.example`, an empty host or port, spaces) gives undefined.
 */
export function parseHost(text: string): HostHeader | undefined {
  let host: string | undefined;
  let rest: string;
  if (text.startsWith('[')) {
    const end = text.indexOf(']');
    if (end < 0) return undefined;
    host = canonicalIPv6(text.slice(1, end));
    rest = text.slice(end + 1);
  } else {
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    host = REG_NAME.test(name) ? name.toLowerCase() : undefined;
    rest = colon < 0 ? '' : text.slice(colon);
  }
  if (host === undefined) return undefined;
  if (rest === '') return { host };
  if (!PORT.test(rest)) return undefined;
  const port = Number(rest.slice(1));
  return port <= 65_535 ? { host, port } : undefined;
}

/** True for the names of this machine's loopback interface. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (net.isIPv4(host) && host.startsWith('127.'));
}

/**
 * The host names a server answers for (against DNS rebinding): loopback names and those added;
 * `*` answers for any. Entries may be host names, IP addresses (IPv6 with or without brackets)
 * or `host:port`; the port is not compared.
 */
export class HostAllowlist {
  private readonly hosts = new Set<string>();
  private any = false;

  /** Entries that are not hosts are left out: {@link HostAllowlist.invalid} finds them first. */
  constructor(entries: readonly string[] = []) {
    for (const entry of entries) this.add(entry);
  }

  /** The entries that are not `*`, a host name, an IP address or host:port. */
  static invalid(entries: readonly string[]): string[] {
    return entries.filter((entry) => !new HostAllowlist().add(entry));
  }

  /** Adds an entry; false when it is not a host (nothing is added). */
  add(entry: string): boolean {
    if (entry === '*') {
      this.any = true;
      return true;
    }
    const host = canonicalIPv6(entry) ?? parseHost(entry)?.host;
    if (host === undefined) return false;
    this.hosts.add(host);
    return true;
  }

  allows(host: string): boolean {
    return this.any || isLoopback(host) || this.hosts.has(host);
  }
}
