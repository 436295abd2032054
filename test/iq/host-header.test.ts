import { expect } from 'chai';
import { HostAllowlist, parseHost } from '../../engine/iq/host-header.ts';

describe('Host headers, read strictly (RFC 3986 host and optional port)', () => {
  it('reads host names, IPv4 and bracketed IPv6 addresses, with or without a port', () => {
    expect(parseHost('localhost')).to.deep.equal({ host: 'localhost' });
    expect(parseHost('LocalHost:8080')).to.deep.equal({ host: 'localhost', port: 8080 });
    expect(parseHost('10.1.2.3:0')).to.deep.equal({ host: '10.1.2.3', port: 0 });
    expect(parseHost('[::1]:65535')).to.deep.equal({ host: '::1', port: 65_535 });
    expect(parseHost('[0:0:0:0:0:0:0:1]')).to.deep.equal({ host: '::1' });
    expect(parseHost('my-service.default.svc')).to.deep.equal({ host: 'my-service.default.svc' });
  });

  it('refuses everything else', () => {
    const bad = [
      'localhost:80@evil.com', '[::1]evil.com', '[::1].evil.com', 'user@localhost', 'localhost:', ':80', '', ' localhost', 'localhost ', 'local host',
      'localhost:65536', 'localhost:123456', 'localhost:-1', 'localhost:8o', 'a:1:2', '::1', '[::1', '::1]', '[::g]', '[fe80::1%eth0]', '[fe80::1%25eth0]',
      '[v1.fe]', 'localhost/', 'localhost?', 'localhost#', 'localhost\\evil', '%zz', 'a%2', '[]', '[127.0.0.1]',
    ];
    for (const header of bad) expect(parseHost(header), JSON.stringify(header)).to.equal(undefined);
  });

  it('allows loopback names and the entries given (ports not compared), or any host with *', () => {
    const list = new HostAllowlist(['api.example:8080', '[2001:db8::1]', '2001:db8::2', '10.0.0.7']);
    for (const host of ['localhost', '127.0.0.1', '127.255.0.9', '::1', 'api.example', '2001:db8::1', '2001:db8::2', '10.0.0.7']) expect(list.allows(host), host).to.equal(true);
    for (const host of ['evil.example', 'api.example.evil', '128.0.0.1', '10.0.0.8', 'localhost.']) expect(list.allows(host), host).to.equal(false);
    expect(new HostAllowlist(['*']).allows('anything.example')).to.equal(true);
    expect(HostAllowlist.invalid(['ok.example', 'a@b', '[::1]x', '*'])).to.deep.equal(['a@b', '[::1]x']);
  });
});
