import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { text, waitForRecords } from '../helpers/app.ts';
import { sluice } from '../helpers/cli.ts';
import { childInstances, Instance } from '../helpers/instances.ts';
import { createUniqueTopic, uniqueName } from '../helpers/kafka.ts';

/** A folder outside the project with no package.json (nor one above it) and no node_modules. */
function bareFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-anywhere-'));
  for (let up = dir; path.dirname(up) !== up; up = path.dirname(up)) {
    expect(fs.existsSync(path.join(up, 'package.json')), `${up} has a package.json`).to.equal(false);
  }
  fs.writeFileSync(
    path.join(dir, 'shout.ts'),
    `import { defineApplication, Serdes } from 'sluice';
import { shout } from './words';

export default defineApplication({
  applicationId: process.env.SHOUT_APP ?? 'shout',
  keySerde: Serdes.string(),
  valueSerde: Serdes.string(),
  topology: (builder) =>
    builder
      .stream<string, string>(process.env.SHOUT_IN ?? 'words', { name: 'words' })
      .mapValues((word: string) => shout(word), { name: 'shout' })
      .to(process.env.SHOUT_OUT ?? 'shouts', { name: 'shouts' }),
});
`,
  );
  fs.writeFileSync(path.join(dir, 'words.ts'), `export const shout = (word: string): string => word.toUpperCase() + '!';\n`);
  return dir;
}

describe('a topology file outside the project', function () {
  this.timeout(120_000);
  const instances = childInstances();

  it("imports 'sluice' and loads as an ES module without a package.json: describe and run work", async () => {
    const dir = bareFolder();
    const described = await sluice(['describe', 'shout.ts', '--format', 'json'], { cwd: dir });
    expect(described.status, described.stderr).to.equal(0);
    expect(JSON.parse(described.stdout).subtopologies[0].nodes.map((n: { name: string }) => n.name)).to.deep.equal(['words', 'shout', 'shouts']);

    const input = await createUniqueTopic('anywhere-in', 2);
    const output = await createUniqueTopic('anywhere-out', 2);
    const env = { SHOUT_IN: input, SHOUT_OUT: output, SHOUT_APP: uniqueName('shout'), SLUICE_STATE_DIR: path.join(dir, 'state') };
    const instance = new Instance('shout', [path.join(dir, 'shout.ts')], env, { cwd: dir });
    instances.push(instance);
    await instance.waitUntilRunning();
    const produced = await sluice(['produce', input, '--key-separator', '='], { input: 'a=hello\nb=world\n' });
    expect(produced.status, produced.stderr).to.equal(0);
    const records = await waitForRecords(output, 2);
    expect(records.map((r) => text(r.value)).sort()).to.deep.equal(['HELLO!', 'WORLD!']);
    instance.child.kill('SIGTERM');
    expect((await instance.exited).code).to.equal(0);
  });
});
