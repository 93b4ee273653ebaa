/** The status line's sentences. */
import type { ChatCompletionUsage, LoadProgress, ModelInfo } from '../client/index.ts';

const percent = (loaded: number, total: number): number =>
  total > 0 ? Math.min(100, Math.floor((loaded / total) * 100)) : 0;

export function progressText(p: LoadProgress): string {
  switch (p.kind) {
    case 'fetch':
      return `Downloading the model… ${percent(p.loadedBytes, p.totalBytes)}%`;
    case 'upload':
      return `Moving the model to the GPU… ${percent(p.loadedBytes, p.totalBytes)}%`;
    case 'ready':
      return 'Ready.';
  }
}

export function usageText(usage: ChatCompletionUsage, stopped: boolean): string {
  const words = [
    `${usage.completion_tokens} token${usage.completion_tokens === 1 ? '' : 's'}${stopped ? ' (stopped)' : ''}`,
    `reused ${usage.reused_tokens} of ${usage.prompt_tokens} prompt tokens`,
    `first token in ${Math.round(usage.time_to_first_token_ms)} ms`,
  ];
  return words.join(' · ');
}

/** 'Ready · stories260K-hf' for a model at '.../models/stories260K-hf'. */
export function readyText(info: ModelInfo): string {
  return `Ready · ${info.location.split('/').filter(Boolean).pop() ?? info.location}`;
}
