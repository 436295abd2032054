import path from 'node:path';
import { PACKAGE_ROOT } from '../package-root.ts';

/**
 * The cache folder every local development service shares (each in a folder of its own: `kafka/`,
 * `schema-registry/`, `postgres/`): `SLUICE_HOME`, else `.sluice/` in the project.
 */
export function defaultHome(): string {
  return process.env.SLUICE_HOME ?? path.join(PACKAGE_ROOT, '.sluice');
}
