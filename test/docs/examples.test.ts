// Every ```ts example in README.md and docs/*.md type-checks under the project's tsconfig, as a
// module of its own that imports 'sluice' as a user's file does. Conventions (docs/testing.md):
// - a block whose first line is a comment naming a file (`// topologies/orders.ts`) is that file,
//   at that path from the repository root, so the page's other blocks can import it;
// - a block whose first line is `// The examples on this page use:` declares what the page's
//   other examples use without showing it each time (a `builder`, an event type); it is checked,
//   and put in front of every unnamed block of the page;
// - a block whose first line starts with `// Fragment` is part of something larger, shown alone
//   on purpose, and is not checked.
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import ts from 'typescript';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const PREAMBLE = '// The examples on this page use:';
const FRAGMENT = /^\/\/ Fragment\b/;
const NAMED = /^\/\/ ([\w./-]+\.ts)\s*$/;

interface Page {
  /** Its path from the repository root, e.g. `docs/dsl.md`. */
  name: string;
  text: string;
}

interface Example {
  page: string;
  /** The 1-based line of the block's first code line in the page. */
  line: number;
  code: string;
}

/** The ```ts blocks of a page, with where each starts. */
function examplesOf(page: Page): Example[] {
  const examples: Example[] = [];
  const lines = page.text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```ts\s*$/.exec(lines[i]!);
    if (!open) continue;
    const indent = open[1]!.length;
    const code: string[] = [];
    let j = i + 1;
    for (; j < lines.length && !/^\s*```\s*$/.test(lines[j]!); j++) code.push(lines[j]!.slice(Math.min(indent, lines[j]!.length - lines[j]!.trimStart().length)));
    examples.push({ page: page.name, line: i + 2, code: code.join('\n') });
    i = j;
  }
  return examples;
}

/** The names a module's own import declarations bind. */
function importedNames(source: ts.SourceFile): Set<string> {
  const names = new Set<string>();
  for (const statement of source.statements) {
    const clause = ts.isImportDeclaration(statement) ? statement.importClause : undefined;
    if (!clause) continue;
    if (clause.name) names.add(clause.name.text);
    const bindings = clause.namedBindings;
    if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
    if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) names.add(element.name.text);
  }
  return names;
}

/** The preamble's text for one block: its imports without the names the block imports itself. */
function preambleFor(preamble: string, block: string): string {
  const own = importedNames(ts.createSourceFile('block.ts', block, ts.ScriptTarget.ES2022));
  const source = ts.createSourceFile('preamble.ts', preamble, ts.ScriptTarget.ES2022);
  return source.statements
    .map((statement) => {
      if (!ts.isImportDeclaration(statement)) return statement.getFullText(source);
      const clause = statement.importClause;
      const bindings = clause?.namedBindings;
      if (!clause || !bindings || !ts.isNamedImports(bindings) || clause.name) return statement.getFullText(source);
      const kept = bindings.elements.filter((e) => !own.has(e.name.text)).map((e) => e.getText(source));
      if (kept.length === 0) return '';
      return `\nimport ${clause.isTypeOnly ? 'type ' : ''}{ ${kept.join(', ')} } from ${statement.moduleSpecifier.getText(source)};`;
    })
    .join('');
}

interface Problem {
  where: string;
  message: string;
}

/**
 * Type-checks the pages' examples together in one program (the repository's files are read
 * from disk; the examples are files of their own, in memory) and returns what the compiler says.
 */
function check(pages: Page[]): Problem[] {
  const files = new Map<string, { text: string; example: Example; offset: number }>();
  for (const page of pages) {
    const examples = examplesOf(page).filter((e) => !FRAGMENT.test(e.code));
    const preamble = examples.find((e) => e.code.startsWith(PREAMBLE));
    for (const example of examples) {
      const named = NAMED.exec(example.code.split('\n')[0]!)?.[1];
      const slug = `${page.name.replace(/[^\w]+/g, '-')}-${example.line}`;
      const file = named ? path.join(ROOT, named) : path.join(ROOT, '.doc-examples', `${slug}.ts`);
      if (named && fs.existsSync(file)) throw new Error(`${page.name}:${example.line}: the example names ${named}, a file the repository has; name another.`);
      if (files.has(file)) throw new Error(`${page.name}:${example.line}: another example is ${named} already.`);
      const before = preamble && !named && example !== preamble ? preambleFor(preamble.code, example.code) + '\n' : '';
      files.set(file, { text: `${before}${example.code}\nexport {};\n`, example, offset: before.split('\n').length - 1 });
    }
  }
  const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, ROOT);
  const host = ts.createCompilerHost(options);
  const folders = new Set([...files.keys()].map((f) => path.dirname(f)));
  const { getSourceFile, fileExists, readFile, directoryExists } = host;
  host.getSourceFile = (name, language, ...rest) => {
    const example = files.get(path.resolve(name));
    return example ? ts.createSourceFile(name, example.text, language) : getSourceFile.call(host, name, language, ...rest);
  };
  host.fileExists = (name) => files.has(path.resolve(name)) || fileExists.call(host, name);
  host.readFile = (name) => files.get(path.resolve(name))?.text ?? readFile.call(host, name);
  host.directoryExists = (name) => folders.has(path.resolve(name)) || (directoryExists?.call(host, name) ?? ts.sys.directoryExists(name));
  const program = ts.createProgram([...files.keys()], { ...options, noEmit: true }, host);
  const problems: Problem[] = [];
  for (const [file, { example, offset }] of files) {
    const source = program.getSourceFile(file)!;
    for (const diagnostic of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line = diagnostic.start === undefined ? 0 : source.getLineAndCharacterOfPosition(diagnostic.start).line - offset;
      const where = line < 0 ? `${example.page}:${example.line} (the page's preamble)` : `${example.page}:${example.line + line}`;
      problems.push({ where, message: `TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, ' ')}` });
    }
  }
  return problems;
}

/** README.md and every page in docs/. */
function documentation(): Page[] {
  const names = ['README.md', ...fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
  return names.map((name) => ({ name, text: fs.readFileSync(path.join(ROOT, name), 'utf8') }));
}

describe('the examples in the documentation', function () {
  this.timeout(120_000);

  it('type-check, every ```ts block of README.md and docs/*.md', () => {
    const pages = documentation();
    expect(pages.flatMap(examplesOf).length, 'examples found').to.be.greaterThan(10);
    expect(check(pages).map((p) => `${p.where}: ${p.message}`)).to.deep.equal([]);
  });

  it('catches an example that does not compile, keeps the preamble out of blocks that import its names, and skips fragments (the check itself)', () => {
    const page: Page = {
      name: 'sample page',
      text: [
        '```ts',
        PREAMBLE,
        "import { Serdes, StreamsBuilder } from 'sluice';",
        'declare const builder: StreamsBuilder;',
        '```',
        'Fine:',
        '```ts',
        "builder.stream<string, string>('in', { value: Serdes.string() }).mapValues((v) => v.length).to('out');",
        '```',
        'Imports what the preamble imports:',
        '```ts',
        "import { Serdes } from 'sluice';",
        "builder.stream('in', { key: Serdes.string() });",
        '```',
        'Wrong:',
        '```ts',
        "builder.stream<string, string>('in').mapValues((v) => v.size);",
        '```',
        '```ts',
        '// Fragment: a signature, not code',
        'mapValues<V2>(mapper: (value: V) => V2): Stream<K, V2>;',
        '```',
      ].join('\n'),
    };
    const problems = check([page]);
    expect(problems.map((p) => p.where)).to.deep.equal(['sample page:17']);
    expect(problems[0]!.message).to.match(/TS2339: Property 'size' does not exist on type 'string'/);
  });
});
