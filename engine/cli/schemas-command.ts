import { Command } from 'commander';
import { ConfigError } from '../errors.ts';
import { readCatalog, registerCatalog } from '../serde/avro/schema-catalog.ts';
import { SchemaRegistry } from '../serde/avro/registry.ts';

/** `sluice schemas check|register`: the Avro schemas of `schemas/`. */
export function schemasCommand(): Command {
  const command = new Command('schemas').description('validate the Avro schemas in schemas/ and register them with a schema registry');
  command
    .command('check')
    .description('parse every .avsc file, and check type names are unique and subjects.json names existing files')
    .option('--dir <dir>', 'the schema directory', 'schemas')
    .action((flags: { dir: string }) => {
      const catalog = readCatalog(flags.dir);
      for (const entry of catalog.entries) process.stdout.write(`${entry.type ? 'ok     ' : 'INVALID'} ${entry.file}${entry.name ? `  ${entry.name}` : ''}\n`);
      for (const [subject, file] of Object.entries(catalog.subjects)) process.stdout.write(`subject ${subject} -> ${file}\n`);
      if (catalog.problems.length > 0) {
        throw new ConfigError(`${catalog.problems.length} problem(s) in ${flags.dir}:\n  ${catalog.problems.join('\n  ')}`);
      }
      process.stdout.write(`${catalog.entries.length} schemas valid\n`);
    });
  command
    .command('register')
    .description("register each subject of subjects.json, printing its compatibility with the subject's latest version")
    .option('--dir <dir>', 'the schema directory', 'schemas')
    .option('--registry-url <url>', 'the schema registry (default: SCHEMA_REGISTRY_URL; without one, an in-process registry: a dry run)')
    .action(async (flags: { dir: string; registryUrl?: string }) => {
      const catalog = readCatalog(flags.dir);
      if (catalog.problems.length > 0) throw new ConfigError(`Fix ${flags.dir} first (sluice schemas check):\n  ${catalog.problems.join('\n  ')}`);
      const registry = flags.registryUrl
        ? new SchemaRegistry({ url: flags.registryUrl, userInfo: process.env.SCHEMA_REGISTRY_USER_INFO, token: process.env.SCHEMA_REGISTRY_TOKEN })
        : SchemaRegistry.fromEnvironment();
      if (registry.embedded) process.stderr.write('No SCHEMA_REGISTRY_URL: registering into an in-process registry (a dry run; nothing is kept).\n');
      const results = await registerCatalog(catalog, registry);
      for (const r of results) {
        const outcome = r.compatibility === 'incompatible' ? `INCOMPATIBLE: ${r.reasons.join('; ') || 'refused'}` : `${r.compatibility}, id ${r.id}`;
        process.stdout.write(`${r.subject} (${r.file}): ${outcome}\n`);
      }
      const refused = results.filter((r) => r.compatibility === 'incompatible');
      if (refused.length > 0) throw new ConfigError(`${refused.length} subject(s) not registered: their schemas are incompatible with the latest versions.`);
    });
  return command;
}
