import type { BackgroundWork } from '../../processors/background.ts';

/** A task's background works, for the loop: what to pass on, and how loaded the task is. */
export class TaskBackground {
  private readonly works: BackgroundWork[] = [];

  attach(work: BackgroundWork): void {
    this.works.push(work);
  }

  get inFlight(): number {
    let total = 0;
    for (const work of this.works) total += work.inFlight;
    return total;
  }

  get ready(): boolean {
    for (const work of this.works) if (work.ready) return true;
    return false;
  }

  /** The highest load of the task's works (0 without any). */
  get load(): number {
    let load = 0;
    for (const work of this.works) if (work.load > load) load = work.load;
    return load;
  }

  /** Passes on what each work finished. Throws as `Task.process` does. */
  resume(): void {
    for (const work of this.works) if (work.ready) work.resume();
  }
}
