// Everything the repository cites is in it: every document a file names (a name ending in
// `.md`) exists in the repository, and every relative link in a Markdown file reaches a file
// (and the heading it names, if any). A user reads the contracts in docs/, never in a document
// we do not ship.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** Folders that are not the project's own text: installed packages, caches, build output, measurements. */
const SKIP = new Set(['node_modules', '.git', '.sluice', 'dist', 'target', 'results']);
const TEXT = /\.(ts|js|cjs|mjs|md|json|avsc|sh|ya?ml|java|py|xml)$|^Dockerfile/;

function files(dir = ROOT): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (SKIP.has(entry.name)) return [];
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return files(full);
    return TEXT.test(entry.name) ? [path.relative(ROOT, full).split(path.sep).join('/')] : [];
  });
}

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
function anchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

describe('references: the repository cites only what it holds', () => {
  const all = files();
  const documents = all.filter((f) => f.endsWith('.md'));

  it('every document a file names is in the repository', () => {
    const missing: string[] = [];
    for (const file of all) {
      // Addresses on the web are not documents of ours.
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8').replace(/https?:\/\/\S+/g, '');
      for (const [name] of text.matchAll(/[\w./-]*[\w-]\.md\b/g)) {
        const wanted = name.replace(/^(\.\.?\/)+/, '');
        if (!documents.some((d) => d === wanted || d.endsWith(`/${wanted}`))) missing.push(`${file}: ${name}`);
      }
    }
    expect(missing).to.deep.equal([]);
  });

  it('every relative link in a Markdown file reaches a file, and the heading it names', () => {
    const broken: string[] = [];
    for (const file of documents) {
      const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
      for (const [, link] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        if (/^[a-z]+:/i.test(link!)) continue;
        const [target, hash] = link!.split('#');
        const resolved = target ? path.join(path.dirname(path.join(ROOT, file)), target) : path.join(ROOT, file);
        if (!fs.existsSync(resolved)) {
          broken.push(`${file}: ${link}`);
          continue;
        }
        if (hash && resolved.endsWith('.md')) {
          const headings = [...fs.readFileSync(resolved, 'utf8').matchAll(/^#+ (.*)$/gm)].map(([, h]) => anchor(h!));
          if (!headings.includes(hash)) broken.push(`${file}: ${link} (no such heading)`);
        }
      }
    }
    expect(broken).to.deep.equal([]);
  });
});
