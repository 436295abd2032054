// describe shows each windowed operator's spec and each window store's retention, in text, JSON
// and Mermaid, and a windowed store's changelog is created with time retention by append time.
import { expect } from 'chai';
import { StreamsBuilder } from '../../engine/dsl/builder.ts';
import { SessionWindows, SlidingWindows, Suppressed, TimeWindows } from '../../engine/index.ts';
import { Serdes } from '../../engine/serde/serde.ts';
import { compile } from '../../engine/topology/compile.ts';
import { describeJson, describeMermaid, describeText } from '../../engine/topology/describe.ts';

function windowedTopology() {
  const builder = new StreamsBuilder();
  const grouped = builder.stream<string, string>('clicks').groupByKey();
  grouped.windowedBy(TimeWindows.ofSizeAndGrace(60_000, 10_000)).count({ name: 'per-minute' }).suppress(Suppressed.untilWindowCloses());
  grouped.windowedBy(TimeWindows.ofSizeWithNoGrace(60_000).advanceBy(15_000)).count({ name: 'hopping' });
  grouped.windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(5_000, 1_000)).count({ name: 'sliding' });
  grouped.windowedBy(SessionWindows.ofInactivityGapAndGrace(30_000, 0)).count({ name: 'visits', retentionMs: 3_600_000 });
  return compile(builder.build(), { applicationId: 'app', keySerde: Serdes.string(), valueSerde: Serdes.string() });
}

describe('describe of windowed topologies', () => {
  it('names each window spec and each window store\'s retention in text, JSON and Mermaid', () => {
    const compiled = windowedTopology();
    const text = describeText(compiled);
    expect(text).to.contain('(count over tumbling 60000 ms, grace 10000 ms; stores: [per-minute])');
    expect(text).to.contain('(count over hopping 60000 ms every 15000 ms, grace 0 ms; stores: [hopping])');
    expect(text).to.contain('(count over sliding 5000 ms, grace 1000 ms; stores: [sliding])');
    expect(text).to.contain('(count over session gap 30000 ms, grace 0 ms; stores: [visits])');
    expect(text).to.contain('(suppress until window closes (grace 10000 ms); stores: [per-minute-final])');
    expect(text).to.match(/visits \(sub-topology 0, changelog: app-visits-changelog, sessions kept 3600000 ms in segments of 1800000 ms/);
    const json = describeJson(compiled);
    expect(json.stores.find((s) => s.name === 'per-minute')!.windowed).to.deep.equal({ kind: 'time', sizeMs: 60_000, retentionMs: 70_000, segmentIntervalMs: 60_000 });
    const operators = json.subtopologies.flatMap((s) => s.nodes).map((n) => n.operator).filter(Boolean);
    expect(operators).to.include('count over sliding 5000 ms, grace 1000 ms');
    expect(describeMermaid(compiled)).to.contain('count over session gap 30000 ms, grace 0 ms');
  });

  it('gives a window store\'s changelog time retention a day past the store\'s, by the time records are appended', () => {
    const changelog = windowedTopology().internalTopics.find((t) => t.name === 'app-per-minute-changelog')!;
    expect(changelog.config).to.deep.equal({ 'cleanup.policy': 'compact,delete', 'retention.ms': String(70_000 + 86_400_000), 'message.timestamp.type': 'LogAppendTime' });
    const buffer = windowedTopology().internalTopics.find((t) => t.name === 'app-per-minute-final-changelog')!;
    expect(buffer.config).to.deep.equal({ 'cleanup.policy': 'compact' });
  });
});
