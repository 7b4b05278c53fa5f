import type { Db } from "./db.ts";
import type { BatchQueue, OperationGuard } from "./batch-queue.ts";
import type { ErrorClass } from "./wire-errors.ts";

/**
 * A named write (ADR-005): a synchronous function of the writer's connection and arguments that
 * survive a structured clone. It runs inside a batch transaction, in its own savepoint; throwing
 * fails only this command. Commands are named, not closures, so the writer can live in another
 * thread (storage/thread-writer.ts) and run exactly the same code.
 */
export type Command = (db: Db, ...args: any[]) => unknown;
export type CommandMap = Record<string, Command>;
export type CommandArgs<F> = F extends (db: Db, ...args: infer A) => unknown ? A : never;
export type CommandResult<F> = F extends (...args: never[]) => infer R ? R : never;

const GUARD = Symbol("operation guard");

/**
 * Marks a command that runs without a savepoint of its own (storage/batch-queue.ts OperationGuard):
 * it throws instances of `refusals` only while nothing of it is written (or after undoing exactly
 * what it wrote), and any other error it throws fails its whole transaction. For hot commands
 * that cannot fail half-way (bet placement): a savepoint and its release are two statements more.
 * `journaled`: the command leaves writes in a hook's journal (storage/batch-queue.ts OperationGuard).
 */
export function withoutSavepoint<F extends Command>(command: F, refusals: readonly ErrorClass[], options: { journaled?: boolean } = {}): F {
  const guard: OperationGuard = { savepoint: false, isRefusal: (error) => refusals.some((c) => error instanceof c), journaled: options.journaled === true };
  return Object.assign(command, { [GUARD]: guard });
}

/** The guard `withoutSavepoint` gave a command, or undefined (the command runs in its own savepoint). */
export function guardOf(command: Command): OperationGuard | undefined {
  return (command as { [GUARD]?: OperationGuard })[GUARD];
}

/** The one write path of the service: every change to the current database goes through it. */
export interface Writer<C extends CommandMap> {
  /** Queues a command; settles only after the transaction holding it committed (or failed). */
  run<K extends keyof C & string>(name: K, ...args: CommandArgs<C[K]>): Promise<CommandResult<C[K]>>;
  /** Resolves once everything queued before it has committed (an empty transaction of its own). */
  barrier(): Promise<void>;
  /** Commands queued and not yet answered. */
  readonly depth: number;
  /** Stops accepting commands, commits what is queued, releases the connection. Idempotent. */
  close(): Promise<void>;
}

/** The writer in the calling thread: commands run on the caller's event loop (tests, jobs, small tools). */
export class InlineWriter<C extends CommandMap> implements Writer<C> {
  #closing: Promise<void> | undefined;

  constructor(
    readonly queue: BatchQueue,
    private readonly commands: C,
  ) {}

  run<K extends keyof C & string>(name: K, ...args: CommandArgs<C[K]>): Promise<CommandResult<C[K]>> {
    const command = Object.hasOwn(this.commands, name) ? this.commands[name] : undefined;
    if (!command) return Promise.reject(new Error(`unknown write command ${name}`));
    return this.queue.enqueue((db) => command(db, ...args) as CommandResult<C[K]>, guardOf(command));
  }

  barrier(): Promise<void> {
    return this.queue.enqueue(() => undefined);
  }

  get depth(): number {
    return this.queue.depth;
  }

  close(): Promise<void> {
    this.#closing ??= Promise.resolve().then(() => this.queue.close());
    return this.#closing;
  }
}
