/**
 * Errors across the worker boundary keep their class. Comlink sends a thrown value through its 'throw'
 * transfer handler, whose default turns every error into a plain Error; the handler registered here
 * sends {name, code, message, stack, cause} instead and rebuilds the same class on the other side:
 * a KVShareError subclass from src/errors.ts (looked up by its `code`, so it survives minified class
 * names), a built-in error class (TypeError, ...), or a DOMException. Both sides must register it
 * (exposeEngine and createEngine do).
 */
import * as Comlink from 'comlink';
import type { SerializedError } from '../api/protocol.ts';
import * as errors from '../errors.ts';
import { type ErrorCode, KVShareError } from '../errors.ts';

type KVShareErrorClass = new (message: string) => KVShareError;

/** Every KVShareError subclass exported by src/errors.ts, by its code. */
const byCode: ReadonlyMap<string, KVShareErrorClass> = (() => {
  const map = new Map<string, KVShareErrorClass>();
  for (const value of Object.values(errors)) {
    if (typeof value !== 'function' || !(value.prototype instanceof KVShareError)) continue;
    const Cls = value as KVShareErrorClass;
    map.set(new Cls('').code, Cls);
  }
  return map;
})();

const builtins: ReadonlyMap<string, ErrorConstructor> = new Map<string, ErrorConstructor>([
  ['TypeError', TypeError],
  ['RangeError', RangeError],
  ['SyntaxError', SyntaxError],
  ['ReferenceError', ReferenceError],
  ['EvalError', EvalError],
  ['URIError', URIError],
]);

export function serializeError(e: unknown, depth = 0): SerializedError {
  if (!(e instanceof Error) && !isDomException(e)) {
    return { name: 'Error', message: typeof e === 'string' ? e : String(e) };
  }
  const out: SerializedError = { name: e.name, message: e.message };
  if (e instanceof KVShareError) out.code = e.code;
  if (typeof e.stack === 'string') out.stack = e.stack;
  const cause = (e as { cause?: unknown }).cause;
  if (cause !== undefined && depth < 3) out.cause = serializeError(cause, depth + 1);
  return out;
}

/** Rebuilds the error: same class (when known here), name, code, message, stack and cause. */
export function deserializeError(s: SerializedError): Error {
  let err: Error;
  const Cls = s.code === undefined ? undefined : byCode.get(s.code);
  if (Cls) err = new Cls(s.message);
  else if (s.code !== undefined) err = new KVShareError(s.code as ErrorCode, s.message);
  else if (builtins.has(s.name)) err = new (builtins.get(s.name)!)(s.message);
  else if (typeof DOMException === 'function' && isDomExceptionName(s.name))
    err = new DOMException(s.message, s.name) as unknown as Error;
  else err = new Error(s.message);
  if (err.name !== s.name) define(err, 'name', s.name);
  if (s.stack !== undefined) define(err, 'stack', s.stack);
  if (s.cause !== undefined) define(err, 'cause', deserializeError(s.cause));
  return err;
}

function define(err: Error, key: string, value: unknown): void {
  Object.defineProperty(err, key, { value, writable: true, configurable: true, enumerable: false });
}

function isDomException(e: unknown): e is DOMException {
  return typeof DOMException === 'function' && e instanceof DOMException;
}

/** DOMException names end in 'Error' (AbortError, OperationError, ...); a few legacy ones do not. */
function isDomExceptionName(name: string): boolean {
  return /^[A-Z][A-Za-z]*Error$/.test(name) && name !== 'Error';
}

type WireThrown = { kind: 'error'; error: SerializedError } | { kind: 'value'; value: unknown };

const REGISTERED = Symbol('kvshare.errorTransfer');

/** Replace Comlink's 'throw' transfer handler with one that keeps error classes (idempotent). */
export function registerErrorTransfer(): void {
  const base = Comlink.transferHandlers.get('throw');
  if (!base || REGISTERED in base) return;
  const handler: Comlink.TransferHandler<unknown, WireThrown> & { [REGISTERED]: true } = {
    [REGISTERED]: true,
    canHandle: (value: unknown): value is unknown => base.canHandle(value),
    serialize(thrown: unknown): [WireThrown, Transferable[]] {
      const value = (thrown as { value: unknown }).value;
      if (value instanceof Error || isDomException(value)) {
        return [{ kind: 'error', error: serializeError(value) }, []];
      }
      return [{ kind: 'value', value }, []];
    },
    deserialize(wire: WireThrown): never {
      if (wire.kind === 'error') throw deserializeError(wire.error);
      throw wire.value;
    },
  };
  Comlink.transferHandlers.set('throw', handler as Comlink.TransferHandler<unknown, unknown>);
}
