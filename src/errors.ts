/**
 * Every error the engine throws on purpose is a KVShareError with a stable `code`.
 * The class name survives the worker boundary (see src/client), so callers may use
 * `instanceof` or switch on `code`.
 */
export type ErrorCode =
  | 'MODEL_FILE_MISSING'
  | 'MODEL_FILE_MALFORMED'
  | 'UNSUPPORTED_ARCHITECTURE'
  | 'TENSOR_TOO_LARGE'
  | 'EMPTY_PROMPT'
  | 'CONTEXT_OVERFLOW'
  | 'WEBGPU_UNAVAILABLE'
  | 'DEVICE_LOST'
  | 'INVALID_ARGUMENT'
  | 'ABORTED'
  | 'CACHE_ENTRY_INVALID'
  | 'ENGINE_NOT_LOADED'
  | 'WORKER_FAILED'
  | 'CACHE_PACK_INVALID'
  | 'NON_FINITE_OUTPUT'
  | 'INTERNAL';

export class KVShareError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    // Subclasses spell their name out as a field: bundlers may minify class names (new.target.name).
    this.name = new.target.name;
  }
}

/** A model file is absent (404, ENOENT) or cannot be read. */
export class ModelFileMissingError extends KVShareError {
  override readonly name: string = 'ModelFileMissingError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_FILE_MISSING', message, options);
  }
}
/** A model file exists but its content is not what the format requires. */
export class ModelFormatError extends KVShareError {
  override readonly name: string = 'ModelFormatError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_FILE_MALFORMED', message, options);
  }
}
/** config.json names an architecture or feature this engine does not implement. */
export class UnsupportedArchitectureError extends KVShareError {
  override readonly name: string = 'UnsupportedArchitectureError';
  constructor(message: string) {
    super('UNSUPPORTED_ARCHITECTURE', message);
  }
}
/** A tensor cannot be placed on this device even after splitting. */
export class TensorTooLargeError extends KVShareError {
  override readonly name: string = 'TensorTooLargeError';
  constructor(message: string) {
    super('TENSOR_TOO_LARGE', message);
  }
}
export class EmptyPromptError extends KVShareError {
  override readonly name: string = 'EmptyPromptError';
  constructor(message = 'The prompt is empty: give at least one token of text.') {
    super('EMPTY_PROMPT', message);
  }
}
/** Prompt tokens plus requested new tokens exceed the context the engine was built for. */
export class ContextOverflowError extends KVShareError {
  override readonly name: string = 'ContextOverflowError';
  constructor(message: string) {
    super('CONTEXT_OVERFLOW', message);
  }
}
/** No WebGPU implementation, no adapter, or the adapter lacks a required limit/feature. */
export class WebGPUUnavailableError extends KVShareError {
  override readonly name: string = 'WebGPUUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('WEBGPU_UNAVAILABLE', message, options);
  }
}
export class DeviceLostError extends KVShareError {
  override readonly name: string = 'DeviceLostError';
  constructor(message: string) {
    super('DEVICE_LOST', message);
  }
}
export class InvalidArgumentError extends KVShareError {
  override readonly name: string = 'InvalidArgumentError';
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}
export class AbortError extends KVShareError {
  override readonly name: string = 'AbortError';
  constructor(message = 'The request was aborted.') {
    super('ABORTED', message);
  }
}
/** A KV cache entry is corrupt, truncated, or belongs to another model. */
export class CacheEntryError extends KVShareError {
  override readonly name: string = 'CacheEntryError';
  constructor(message: string) {
    super('CACHE_ENTRY_INVALID', message);
  }
}
export class EngineNotLoadedError extends KVShareError {
  override readonly name: string = 'EngineNotLoadedError';
  constructor(message = 'No model is loaded: call load() first.') {
    super('ENGINE_NOT_LOADED', message);
  }
}
/** The engine's Web Worker failed to start, crashed, or was terminated (src/client). */
export class EngineWorkerError extends KVShareError {
  override readonly name: string = 'EngineWorkerError';
  constructor(message = 'The engine worker failed.') {
    super('WORKER_FAILED', message);
  }
}
/** A KV pack (src/store/pack.ts) is malformed, oversized, truncated, or made for another model. */
export class CachePackError extends KVShareError {
  override readonly name: string = 'CachePackError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('CACHE_PACK_INVALID', message, options);
  }
}
/** The model produced non-finite logits (NaN/Inf) in a request that reused no cache entry. */
export class NonFiniteOutputError extends KVShareError {
  override readonly name: string = 'NonFiniteOutputError';
  constructor(message: string) {
    super('NON_FINITE_OUTPUT', message);
  }
}
/** A bug of this engine (not of the caller's input): the original error is the `cause`. */
export class InternalError extends KVShareError {
  override readonly name: string = 'InternalError';
  constructor(message: string, options?: { cause?: unknown }) {
    super('INTERNAL', message, options);
  }
}

/** `e` itself when it is a KVShareError; otherwise an InternalError wrapping it, so every error has a code. */
export function withCode(e: unknown): KVShareError {
  if (e instanceof KVShareError) return e;
  if ((e as { name?: unknown } | null)?.name === 'AbortError') return new AbortError();
  const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new InternalError(`internal error: ${msg}`, { cause: e });
}
