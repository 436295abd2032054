/** A digest of every TypeScript source's path, size and modification time under engine/ and state/ of the package at `root`. */
export function sourcesDigest(root: string): string;
/** The compiled build's folder when it matches the sources of the package at `root`; otherwise undefined. */
export function freshBuild(root: string): string | undefined;
/** Compiles the sources into dist/ and records what it compiled; returns the folder. */
export function build(root: string): string;
