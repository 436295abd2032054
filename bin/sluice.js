#!/usr/bin/env node
// The `sluice` command. Topology files and the engine are TypeScript, run through tsx; the
// module hooks registered after it let a topology file anywhere import 'sluice' (this package)
// and load as an ES module (engine/cli/module-hooks.ts).
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

register();
registerHooks('../engine/cli/module-hooks.ts', import.meta.url, { data: { packageUrl: import.meta.url } });
await import('../engine/cli/main.ts');
