import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SluiceError, TopologyError, TopologyFileError } from '../errors.ts';
import type { RunOptions } from '../runtime/application.ts';
import { launch, type Instance } from '../runtime/launch.ts';
import { compileApplication } from '../runtime/definition.ts';
import type { CompiledTopology } from '../topology/compiled.ts';
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
    if (err instanceof TopologyError) throw inFile(err, file);
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

/** Compiles a loaded topology file; a TopologyError names the file as well as the operator. */
export function compileTopologyFile(file: string, definition: ApplicationDefinition, applicationId?: string): CompiledTopology {
  try {
    return compileApplication(definition, { ...definition, ...(applicationId ? { applicationId } : {}) });
  } catch (err) {
    throw err instanceof TopologyError ? inFile(err, file) : err;
  }
}

/** Creates the application of a loaded topology file; a TopologyError names the file. */
export function createApplication(file: string, definition: ApplicationDefinition, options: RunOptions): Instance {
  try {
    return launch(definition, options);
  } catch (err) {
    throw err instanceof TopologyError ? inFile(err, file) : err;
  }
}

function inFile(err: TopologyError, file: string): TopologyError {
  err.file = file;
  return err;
}
