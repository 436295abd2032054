/** A promise settled once, from outside: the first `resolve` or `reject` wins, later ones are ignored. */
export class Outcome {
  readonly promise: Promise<void>;
  private settled = false;
  private settle!: { resolve: () => void; reject: (err: unknown) => void };

  constructor() {
    this.promise = new Promise((resolve, reject) => (this.settle = { resolve, reject }));
    this.promise.catch(() => undefined); // observed through `promise` by whoever cares
  }

  get done(): boolean {
    return this.settled;
  }

  resolve(): void {
    if (!this.settled) this.settle.resolve();
    this.settled = true;
  }

  reject(err: unknown): void {
    if (!this.settled) this.settle.reject(err);
    this.settled = true;
  }
}
