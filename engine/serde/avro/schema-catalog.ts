import fs from 'node:fs';
import path from 'node:path';
import avro from 'avsc';
import { avroInfo, type SchemaRegistry, registryError } from './registry.ts';

/** One `.avsc` file of a schema directory, parsed, or why it could not be. */
export interface CatalogEntry {
  file: string;
  name?: string;
  type?: avro.Type;
  problem?: string;
}

export interface Catalog {
  entries: CatalogEntry[];
  /** subject -> file, from `subjects.json`. */
  subjects: Record<string, string>;
  problems: string[];
}

/**
 * Reads every `.avsc` file of `dir` and its `subjects.json` (subject → file), and says what is
 * wrong: a file that is not a valid schema, a name defined by two files, a subject whose file
 * does not exist or does not parse.
 */
export function readCatalog(dir: string): Catalog {
  const problems: string[] = [];
  const entries: CatalogEntry[] = [];
  const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.avsc')).sort() : [];
  if (files.length === 0) problems.push(`${dir} holds no .avsc files`);
  const owner = new Map<string, string>();
  for (const file of files) {
    const entry: CatalogEntry = { file };
    entries.push(entry);
    try {
      entry.type = avro.Type.forSchema(JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as avro.Schema);
      entry.name = entry.type.name ?? entry.type.typeName;
      for (const name of new Set(named(entry.type))) {
        const other = owner.get(name);
        if (other) problems.push(`${file}: type ${name} is also defined in ${other}`);
        else owner.set(name, file);
      }
    } catch (err) {
      entry.problem = (err as Error).message;
      problems.push(`${file}: ${entry.problem}`);
    }
  }
  let subjects: Record<string, string> = {};
  const subjectsFile = path.join(dir, 'subjects.json');
  if (fs.existsSync(subjectsFile)) {
    try {
      subjects = JSON.parse(fs.readFileSync(subjectsFile, 'utf8')) as Record<string, string>;
      for (const [subject, file] of Object.entries(subjects)) {
        const entry = entries.find((e) => e.file === file);
        if (!entry) problems.push(`subjects.json: subject ${subject} names ${file}, which does not exist`);
        else if (!entry.type) problems.push(`subjects.json: subject ${subject} names ${file}, which is not a valid schema`);
      }
    } catch (err) {
      problems.push(`subjects.json: ${(err as Error).message}`);
    }
  }
  return { entries, subjects, problems };
}

/** The full names of the named types a type defines (records, enums, fixed), nested ones included. */
function named(type: avro.Type, seen = new Set<avro.Type>()): string[] {
  if (seen.has(type)) return [];
  seen.add(type);
  const names = type.name ? [type.name] : [];
  const t = type as unknown as { fields?: Array<{ type: avro.Type }>; types?: avro.Type[]; itemsType?: avro.Type; valuesType?: avro.Type };
  for (const child of [...(t.fields ?? []).map((f) => f.type), ...(t.types ?? []), t.itemsType, t.valuesType]) {
    if (child) names.push(...named(child, seen));
  }
  return names;
}

/** What registering a subject's schema came to. */
export interface Registration {
  subject: string;
  file: string;
  /** `new` (first version), `compatible`, or `incompatible` with the registry's reasons. */
  compatibility: 'new' | 'compatible' | 'incompatible';
  reasons: string[];
  id?: number;
}

/**
 * Checks each subject's schema against the subject's latest version (the registry's own rules;
 * for the in-process registry, that the new schema can read the latest one's records) and
 * registers the compatible ones.
 */
export async function registerCatalog(catalog: Catalog, registry: SchemaRegistry): Promise<Registration[]> {
  const results: Registration[] = [];
  for (const [subject, file] of Object.entries(catalog.subjects)) {
    const type = catalog.entries.find((e) => e.file === file)?.type;
    if (!type) continue;
    const { compatibility, reasons } = await checkCompatibility(registry, subject, type);
    const result: Registration = { subject, file, compatibility, reasons };
    if (compatibility !== 'incompatible') {
      try {
        result.id = (await registry.register(subject, type)).id;
      } catch (err) {
        result.compatibility = 'incompatible';
        result.reasons = [registryError(`register ${file}`, err).message];
      }
    }
    results.push(result);
  }
  return results;
}

async function checkCompatibility(registry: SchemaRegistry, subject: string, type: avro.Type): Promise<{ compatibility: Registration['compatibility']; reasons: string[] }> {
  let latest: avro.Type;
  try {
    latest = (await registry.latest(subject)).type;
  } catch (err) {
    if ((err as { status?: number }).status === 404) return { compatibility: 'new', reasons: [] };
    throw err;
  }
  if (registry.embedded) {
    try {
      type.createResolver(latest);
      return { compatibility: 'compatible', reasons: [] };
    } catch (err) {
      return { compatibility: 'incompatible', reasons: [(err as Error).message] };
    }
  }
  // The registry's verbose answer carries its reasons; the client library keeps only the boolean.
  const response = await fetch(`${registry.url.replace(/\/$/, '')}/compatibility/subjects/${encodeURIComponent(subject)}/versions/latest?verbose=true`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json', ...registry.authHeaders() },
    body: JSON.stringify({ schema: avroInfo(type).schema, schemaType: 'AVRO' }),
  });
  const answer = (await response.json().catch(() => ({}))) as { is_compatible?: boolean; messages?: string[]; message?: string };
  if (!response.ok) throw registryError(`check ${subject}'s compatibility`, new Error(answer.message ?? `HTTP ${response.status}`));
  return answer.is_compatible ? { compatibility: 'compatible', reasons: [] } : { compatibility: 'incompatible', reasons: answer.messages ?? [] };
}
