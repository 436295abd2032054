#!/usr/bin/env node
// The `sluice` command. Topology files and the engine are TypeScript, run through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../engine/cli/main.ts');
