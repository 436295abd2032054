import type { ProcessorSupplier } from './processor.ts';

/** Forwards every record as it is: merge points and split branches. */
export const passthrough: ProcessorSupplier = ({ next }) => next;
