// The parts of stream threads that need no broker: merging the threads' metrics into one
// exposition, a thread's role from its environment, and the thread count's bounds.
import { expect } from 'chai';
import { Application, ConfigError, defineApplication, launch, Serdes } from 'sluice';
import { mergeExpositions } from '../../engine/runtime/threads/exposition-merge.ts';
import { streamThreadRole } from '../../engine/runtime/threads/thread-role.ts';
import { threadOptions } from '../../engine/runtime/threads/member.ts';

const definition = (numStreamThreads?: number) =>
  defineApplication({ applicationId: 'threads', keySerde: Serdes.string(), valueSerde: Serdes.string(), numStreamThreads, topology: (b) => b.stream('in').to('out') });

describe('stream threads: settings and metrics', () => {
  it('merges expositions: each family once, every sample labelled with its thread, histograms whole', () => {
    const thread = (n: number) =>
      [
        '# HELP sluice_commits_total Commits.',
        '# TYPE sluice_commits_total counter',
        `sluice_commits_total ${n}`,
        '# HELP sluice_lag Lag.',
        '# TYPE sluice_lag gauge',
        `sluice_lag{topic="in",partition="${n}"} 7`,
        '# HELP sluice_commit_seconds Latency.',
        '# TYPE sluice_commit_seconds histogram',
        `sluice_commit_seconds_bucket{le="0.1"} ${n}`,
        `sluice_commit_seconds_sum ${n / 10}`,
        `sluice_commit_seconds_count ${n}`,
        '',
      ].join('\n');
    const merged = mergeExpositions([
      { value: '0', text: thread(1) },
      { value: '1', text: thread(2) },
    ]);
    expect(merged.split('\n')).to.deep.equal([
      '# HELP sluice_commits_total Commits.',
      '# TYPE sluice_commits_total counter',
      'sluice_commits_total{thread="0"} 1',
      'sluice_commits_total{thread="1"} 2',
      '# HELP sluice_lag Lag.',
      '# TYPE sluice_lag gauge',
      'sluice_lag{thread="0",topic="in",partition="1"} 7',
      'sluice_lag{thread="1",topic="in",partition="2"} 7',
      '# HELP sluice_commit_seconds Latency.',
      '# TYPE sluice_commit_seconds histogram',
      'sluice_commit_seconds_bucket{thread="0",le="0.1"} 1',
      'sluice_commit_seconds_sum{thread="0"} 0.1',
      'sluice_commit_seconds_count{thread="0"} 1',
      'sluice_commit_seconds_bucket{thread="1",le="0.1"} 2',
      'sluice_commit_seconds_sum{thread="1"} 0.2',
      'sluice_commit_seconds_count{thread="1"} 2',
      '',
    ]);
  });

  it('reads a thread\'s role from its environment and refuses one that makes no sense', () => {
    expect(streamThreadRole({})).to.equal(undefined);
    expect(streamThreadRole({ SLUICE_STREAM_THREAD: '1/2', SLUICE_STREAM_THREAD_FRONT: 'http://h:8080' })).to.deep.equal({ index: 1, count: 2, front: 'http://h:8080' });
    expect(() => streamThreadRole({ SLUICE_STREAM_THREAD: '2/2' })).to.throw(ConfigError, /index below count/);
    expect(() => streamThreadRole({ SLUICE_STREAM_THREAD: 'x' })).to.throw(ConfigError);
  });

  it('gives a thread a loopback server reached under /threads/<n> of its instance\'s address, with its token', () => {
    const options = threadOptions({ http: { port: 8080, host: '0.0.0.0', token: 'a-token-of-sixteen-chars' } }, { index: 1, count: 2, front: 'http://box:8080' });
    expect(options.http).to.deep.include({ port: 0, host: '127.0.0.1', advertisedUrl: 'http://box:8080/threads/1', basePath: '/threads/1', token: 'a-token-of-sixteen-chars' });
    expect(options.numStreamThreads).to.equal(1);
    expect(threadOptions({}, { index: 0, count: 2 }).http).to.equal(undefined);
  });

  it('refuses thread counts out of bounds, and several threads through Application.create', () => {
    for (const bad of [0, 1.5, 65, -1]) expect(() => launch(definition(bad)), String(bad)).to.throw(ConfigError, /numStreamThreads/);
    expect(() => Application.create(definition(2))).to.throw(ConfigError, /launch\(definition, options\)/);
    expect(launch(definition(1))).to.be.instanceOf(Application);
  });
});

describe('instance names', () => {
  it('refuses a name that cannot be a group instance id, and names each thread after its instance', () => {
    expect(() => Application.create(definition(), { instanceName: 'has space' })).to.throw(ConfigError, /instanceName must be/);
    expect(() => Application.create(definition(), { instanceName: '' })).to.throw(ConfigError, /instanceName must be/);
    expect(threadOptions({ instanceName: 'node-1' }, { index: 1, count: 2 }).instanceName).to.equal('node-1-1');
    expect(threadOptions({}, { index: 1, count: 2 }).instanceName).to.equal(undefined);
  });
});
