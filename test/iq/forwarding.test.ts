import { expect } from 'chai';
import { ForwardingKey, signForwarded } from '../../engine/iq/forwarding.ts';

describe('forwarded requests prove they come from an instance (HMAC of the request with the receiver\'s key)', () => {
  it('accepts a signature made with the published key for this method and path, and nothing else', () => {
    const key = ForwardingKey.generate();
    const path = '/v1/stores/counts/keys/k1?partitions=0,3';
    const proof = signForwarded(key.published, 'GET', path);
    expect(key.verify(proof, 'GET', path)).to.equal(true);
    expect(key.verify(proof, 'GET', '/v1/stores/counts/keys/k2?partitions=0,3'), 'another path').to.equal(false);
    expect(key.verify(proof, 'GET', '/v1/stores/counts/keys/k1?partitions=0,3,4'), 'another query').to.equal(false);
    expect(key.verify(proof, 'POST', path), 'another method').to.equal(false);
    expect(key.verify(signForwarded(ForwardingKey.generate().published, 'GET', path), 'GET', path), 'another instance\'s key').to.equal(false);
    for (const forged of [undefined, '', '1', 'true', 'A'.repeat(43), proof + '=', proof.slice(1), [proof, proof]]) {
      expect(key.verify(forged, 'GET', path), JSON.stringify(forged)).to.equal(false);
    }
  });

  it('draws a new key for every instance', () => {
    expect(ForwardingKey.generate().published).to.not.equal(ForwardingKey.generate().published);
    expect(ForwardingKey.generate().published).to.match(/^[A-Za-z0-9_-]{43}$/);
  });
});
