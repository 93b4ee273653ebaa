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
  | 'ENGINE_NOT_LOADED';

export class KVShareError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** A model file is absent (404, ENOENT) or cannot be read. */
export class ModelFileMissingError extends KVShareError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_FILE_MISSING', message, options);
  }
}
/** A model file exists but its content is not what the format requires. */
export class ModelFormatError extends KVShareError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_FILE_MALFORMED', message, options);
  }
}
/** config.json names an architecture or feature this engine does not implement. */
export class UnsupportedArchitectureError extends KVShareError {
  constructor(message: string) {
    super('UNSUPPORTED_ARCHITECTURE', message);
  }
}
/** A tensor cannot be placed on this device even after splitting. */
export class TensorTooLargeError extends KVShareError {
  constructor(message: string) {
    super('TENSOR_TOO_LARGE', message);
  }
}
export class EmptyPromptError extends KVShareError {
  constructor(message = 'The prompt is empty: give at least one token of text.') {
    super('EMPTY_PROMPT', message);
  }
}
/** Prompt tokens plus requested new tokens exceed the context the engine was built for. */
export class ContextOverflowError extends KVShareError {
  constructor(message: string) {
    super('CONTEXT_OVERFLOW', message);
  }
}
/** No WebGPU implementation, no adapter, or the adapter lacks a required limit/feature. */
export class WebGPUUnavailableError extends KVShareError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('WEBGPU_UNAVAILABLE', message, options);
  }
}
export class DeviceLostError extends KVShareError {
  constructor(message: string) {
    super('DEVICE_LOST', message);
  }
}
export class InvalidArgumentError extends KVShareError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}
export class AbortError extends KVShareError {
  constructor(message = 'The request was aborted.') {
    super('ABORTED', message);
  }
}
/** A KV cache entry is corrupt, truncated, or belongs to another model. */
export class CacheEntryError extends KVShareError {
  constructor(message: string) {
    super('CACHE_ENTRY_INVALID', message);
  }
}
export class EngineNotLoadedError extends KVShareError {
  constructor(message = 'No model is loaded: call load() first.') {
    super('ENGINE_NOT_LOADED', message);
  }
}
