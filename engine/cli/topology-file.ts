import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError, TopologyFileError } from '../errors.ts';
import type { ApplicationDefinition } from '../runtime/definition.ts';

/**
 * Loads a topology file: a `.ts` or `.js` module whose default export is an application
 * definition (see `defineApplication`). Errors name the file; topology errors keep their
 * operator and reason.
 */
export async function loadTopologyFile(file: string): Promise<ApplicationDefinition> {
  const absolute = path.resolve(file);
  if (!fs.existsSync(absolute)) throw new TopologyFileError(file, 'no such file.');
  let module: { default?: unknown };
  try {
    module = await import(pathToFileURL(absolute).href);
  } catch (err) {
    if (err instanceof SluiceError) {
      throw new TopologyFileError(file, `${err.message} [${err.code}]`, { cause: err });
    }
    throw new TopologyFileError(file, `could not be loaded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const definition = module.default as Partial<ApplicationDefinition> | undefined;
  if (!definition || typeof definition !== 'object' || !('topology' in definition)) {
    throw new TopologyFileError(file, 'its default export must be an application: `export default defineApplication({ applicationId, topology })`.');
  }
  return definition as ApplicationDefinition;
}
