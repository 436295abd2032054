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

  /** The least room of the task's works (undefined without any). */
  get room(): number | undefined {
    let room: number | undefined;
    for (const work of this.works) if (room === undefined || work.room < room) room = work.room;
    return room;
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

/** The background works of an instance's running tasks, as the processing loop asks about them. */
export class InstanceBackground {
  constructor(private readonly tasks: () => TaskBackground[]) {}

  /** Records the tasks' async operators have taken and not passed on. */
  get inFlight(): number {
    let total = 0;
    for (const task of this.tasks()) total += task.inFlight;
    return total;
  }

  /** True when an async operator has finished work to pass on. */
  get ready(): boolean {
    return this.tasks().some((task) => task.ready);
  }

  /** How many records the fullest async operator takes before it holds more than it can soon start; undefined without any. */
  get room(): number | undefined {
    let room: number | undefined;
    for (const task of this.tasks()) {
      const r = task.room;
      if (r !== undefined && (room === undefined || r < room)) room = r;
    }
    return room;
  }

  /** Passes on what the async operators finished. Throws as `Task.process` does. */
  resume(): void {
    for (const task of this.tasks()) if (task.ready) task.resume();
  }
}
