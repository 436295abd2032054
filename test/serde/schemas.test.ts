import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { readCatalog, registerCatalog } from '../../engine/serde/avro/schema-catalog.ts';
import { SchemaRegistry } from '../../engine/serde/avro/registry.ts';
import { uniqueName } from '../helpers/kafka.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const CLI = path.join(ROOT, 'bin', 'sluice.js');

const record = (name: string, fields: Array<Record<string, unknown>>) => JSON.stringify({ type: 'record', name, namespace: 'sluice.test', fields });

function schemaDir(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-schemas-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

describe('schemas/ and `sluice schemas check|register`', () => {
  it("the project's schemas are valid, their names unique, and every subject names one of them", () => {
    const catalog = readCatalog(path.join(ROOT, 'schemas'));
    expect(catalog.problems).to.deep.equal([]);
    expect(catalog.entries.map((e) => e.name)).to.include.members([
      'sluice.events.EventEnvelope',
      'sluice.events.media.MediaEvent',
      'sluice.events.media.MediaItem',
      'sluice.events.mutations.Mutation',
      'sluice.events.mutations.MutationStatus',
      'sluice.events.posts.PostEvent',
      'sluice.events.users.UserEvent',
      'sluice.events.analytics.AnalyticsEvent',
    ]);
    expect(catalog.subjects['media-events-value']).to.equal('media-event.avsc');
    const out = execFileSync(process.execPath, [CLI, 'schemas', 'check'], { cwd: ROOT, encoding: 'utf8' });
    expect(out).to.match(new RegExp(`^${catalog.entries.length} schemas valid$`, 'm'));
  });

  it('reports an invalid file, a name defined twice and a subject without its file, and the command fails', () => {
    const dir = schemaDir({
      'a.avsc': record('Thing', [{ name: 'id', type: 'string' }]),
      'b.avsc': record('Thing', [{ name: 'n', type: 'int' }]),
      'c.avsc': '{"type": "record", "name": "Broken", "fields": [{"name": "x", "type": "no-such-type"}]}',
      'subjects.json': JSON.stringify({ 'things-value': 'a.avsc', 'ghosts-value': 'ghost.avsc' }),
    });
    const catalog = readCatalog(dir);
    expect(catalog.problems.join('\n')).to.match(/b\.avsc: type sluice\.test\.Thing is also defined in a\.avsc/);
    expect(catalog.problems.join('\n')).to.match(/c\.avsc: .*no-such-type/);
    expect(catalog.problems.join('\n')).to.match(/ghosts-value names ghost\.avsc, which does not exist/);
    const run = spawnSync(process.execPath, [CLI, 'schemas', 'check', '--dir', dir], { cwd: ROOT, encoding: 'utf8' });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.match(/3 problem\(s\)/);
  });

  it('registers new and compatible schemas, and refuses an incompatible one with the reason', async () => {
    const registry = new SchemaRegistry({ url: `mock://${uniqueName('catalog')}` });
    const v1 = schemaDir({ 'thing.avsc': record('Thing', [{ name: 'id', type: 'string' }]), 'subjects.json': '{"things-value": "thing.avsc"}' });
    const [first] = await registerCatalog(readCatalog(v1), registry);
    expect(first).to.include({ subject: 'things-value', compatibility: 'new' });
    const v2 = schemaDir({ 'thing.avsc': record('Thing', [{ name: 'id', type: 'string' }, { name: 'size', type: 'int', default: 0 }]), 'subjects.json': '{"things-value": "thing.avsc"}' });
    const [second] = await registerCatalog(readCatalog(v2), registry);
    expect(second).to.include({ compatibility: 'compatible' });
    expect(second!.id).to.not.equal(first!.id);
    // A field without a default: records written before cannot be read with it.
    const v3 = schemaDir({ 'thing.avsc': record('Thing', [{ name: 'id', type: 'string' }, { name: 'owner', type: 'string' }]), 'subjects.json': '{"things-value": "thing.avsc"}' });
    const [third] = await registerCatalog(readCatalog(v3), registry);
    expect(third).to.include({ compatibility: 'incompatible' });
    expect(third!.reasons.join(' ')).to.match(/owner/);
    expect(await (await registry.client()).getAllVersions('things-value')).to.have.length(2);
  });
});
