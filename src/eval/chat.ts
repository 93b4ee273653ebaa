/**
 * `eval-reuse --chat`: each pair's text becomes the user turn of a chat with a fixed system prompt,
 * rendered by the model's chat template (engine.chatPromptIds: template + generation prompt, or BOS +
 * the contents joined by newlines for a model without one), so reuse is measured as a chat app sees it.
 */
import type { Engine } from '../engine/engine.ts';
import type { PromptInput } from '../engine/types.ts';

/** The system prompt `--chat` uses unless `--system` names another. */
export const DEFAULT_EVAL_SYSTEM = 'You are a helpful assistant.';

export interface EvalChatOptions {
  system: string;
}

/** The prompt for one text: the text itself, or its chat rendering as token ids. */
export function evalPrompt(engine: Engine, text: string, chat: EvalChatOptions | undefined): PromptInput {
  if (!chat) return text;
  return {
    tokenIds: engine.chatPromptIds([
      { role: 'system', content: chat.system },
      { role: 'user', content: text },
    ]),
  };
}
