/**
 * Errors across a thread boundary. A structured clone keeps only an Error's message and stack, so a
 * thrown BetRefusal would arrive as a bare Error and lose its code. The sending side records the
 * class name and the error's own fields; the receiving side rebuilds an instance of the same class
 * when that class is in its list (so `instanceof` keeps working), otherwise an Error with the fields.
 */
export interface WireError {
  /** The constructor's name: how the receiving side finds the class. */
  className: string;
  /** The error's `name` (often just "Error" for a subclass that does not set it). */
  name: string;
  message: string;
  stack?: string;
  fields: Record<string, unknown>;
}

export type ErrorClass = abstract new (...args: never[]) => Error;

export function encodeError(error: unknown): WireError {
  if (!(error instanceof Error)) return { className: "Error", name: "Error", message: String(error), fields: {} };
  let fields: Record<string, unknown> = {};
  try {
    fields = structuredClone({ ...error });
  } catch {
    // a field that cannot be cloned (a function, a socket): send the message only
  }
  return { className: error.constructor?.name ?? "Error", name: error.name, message: error.message, stack: error.stack, fields };
}

export function decodeError(wire: WireError, classes: readonly ErrorClass[]): Error {
  const known = classes.find((c) => c.name === wire.className);
  const error: Error = known ? Object.create(known.prototype) : new Error(wire.message);
  Object.defineProperty(error, "message", { value: wire.message, writable: true, configurable: true });
  Object.assign(error, wire.fields);
  if (error.name !== wire.name) Object.defineProperty(error, "name", { value: wire.name, writable: true, configurable: true });
  if (wire.stack) Object.defineProperty(error, "stack", { value: `${wire.stack}\n    (in the writer thread)`, writable: true, configurable: true });
  return error;
}
