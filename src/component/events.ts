/**
 * The events a `<kvshare-chat>` dispatches. Each is a CustomEvent that bubbles and crosses shadow
 * roots (`composed`), so a page can listen on the element or on `document`.
 */
import { type ChatCompletionUsage, type ErrorCode, KVShareError, type ModelInfo } from '../client/index.ts';

/** `message`: an assistant answer is complete (or was stopped: `finishReason` 'abort'). */
export interface KVShareMessageDetail {
  role: 'assistant';
  content: string;
  usage: ChatCompletionUsage | null;
  finishReason: 'stop' | 'length' | 'abort';
}

/** `error`: loading or answering failed. `code` is the KVShareError code, or 'UNKNOWN'. */
export interface KVShareErrorDetail {
  code: ErrorCode | 'UNKNOWN';
  message: string;
  error: unknown;
}

export interface KVShareChatEventMap {
  /** The model is loaded (detail: the engine's ModelInfo). */
  ready: CustomEvent<ModelInfo>;
  message: CustomEvent<KVShareMessageDetail>;
  error: CustomEvent<KVShareErrorDetail>;
}

export function emit<K extends keyof KVShareChatEventMap>(
  target: EventTarget,
  type: K,
  detail: KVShareChatEventMap[K]['detail'],
): void {
  target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
}

export function errorDetail(error: unknown): KVShareErrorDetail {
  const code = error instanceof KVShareError ? error.code : 'UNKNOWN';
  const message = error instanceof Error ? error.message : String(error);
  return { code, message, error };
}

/** What the component shows for an error: a sentence a visitor can act on, then the details. */
export function friendlyMessage(detail: KVShareErrorDetail): string {
  switch (detail.code) {
    case 'WEBGPU_UNAVAILABLE':
      return 'This browser cannot run the assistant: WebGPU is not available. Try a recent Chrome, Edge or Safari with WebGPU enabled.';
    case 'MODEL_FILE_MISSING':
      return `The model could not be found. ${detail.message}`;
    case 'TENSOR_TOO_LARGE':
      return `This device does not have enough GPU memory for the model. ${detail.message}`;
    case 'DEVICE_LOST':
      return 'The GPU stopped responding. Reload the page to try again.';
    case 'WORKER_FAILED':
      return `The assistant stopped working. Reload the page to try again. (${detail.message})`;
    default:
      return `Something went wrong: ${detail.message}`;
  }
}
