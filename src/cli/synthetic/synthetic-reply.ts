/**
 * A planted greedy answer for synthetic chat models (answers of random weights are noise; this lets
 * tests see a known answer and a real end-of-turn token end it).
 *
 * The chain [t0, t1, ..., tn]: t0 is the last token of the chat template's generation prompt,
 * t1..t(n-1) the reply's tokens, tn the end-of-turn token. Step i owns hidden dimension
 * k_i = D-1-i of the residual stream: only the embedding of t(i) writes it (value 1; every other
 * embedding row, o_proj row and down_proj row has 0 there), and lm_head row t(i+1) reads only it.
 * So after any token but t0..t(n-1) the planted rows score exactly 0 (the model's noise as before,
 * minus these dimensions), and after t(i) the final RMSNorm makes h[k_i] ≈ sqrt(D) and t(i+1) wins.
 */
import { InvalidArgumentError } from '../../errors.ts';
import { EMBED, LM_HEAD } from '../../model/layout.ts';
import type { TensorSpec } from '../../model/safetensors/safetensors-writer.ts';
import { createTokenizer } from '../../model/tokenizer/tokenizer.ts';

/** What the embedding writes into a step's own dimension (the random entries are ~N(0, 0.02)). */
const MARK = 1;

/** [last token of the generation prompt, ...reply tokens, end-of-turn token]; all distinct. */
export async function replyChain(
  tokenizerJson: string,
  tokenizerConfig: string,
  reply: string,
  endOfTurnId: number,
  hiddenSize: number,
): Promise<number[]> {
  const tok = await createTokenizer({
    tokenizerJson: JSON.parse(tokenizerJson),
    tokenizerConfig: JSON.parse(tokenizerConfig),
  });
  if (!tok.hasChatTemplate)
    throw new InvalidArgumentError('A planted reply needs a tokenizer with a chat template.');
  const prompt = tok.applyChatTemplate([{ role: 'user', content: 'Hi' }], { addGenerationPrompt: true });
  const chain = [prompt[prompt.length - 1], ...tok.encode(reply, { addSpecialTokens: false }), endOfTurnId];
  if (reply.length === 0 || new Set(chain).size !== chain.length || chain.length - 1 > hiddenSize / 4) {
    throw new InvalidArgumentError(
      `The reply '${reply}' cannot be planted: its tokens [${chain.join(', ')}] must be non-empty, distinct (also from the prompt's last token and the end-of-turn token) and at most ${Math.floor(hiddenSize / 4) - 1}.`,
    );
  }
  return chain;
}

/** The tensor's values with the chain planted (tensors other than these four pass unchanged). */
export function plantReply(
  name: string,
  shape: number[],
  values: TensorSpec['values'],
  chain: number[],
): TensorSpec['values'] {
  const cols = shape[1];
  const steps = chain.length - 1;
  const hidden = name === LM_HEAD || name === EMBED ? cols : shape[0];
  const dimOf = (step: number) => hidden - 1 - step;
  const owned = (d: number) => d >= hidden - steps; // a step's dimension
  let edit: ((row: number, col: number, v: number) => number) | null = null;
  if (name === EMBED) {
    const stepOf = new Map(chain.slice(0, -1).map((t, i) => [t, i]));
    edit = (row, col, v) =>
      owned(col) ? (stepOf.get(row) !== undefined && dimOf(stepOf.get(row)!) === col ? MARK : 0) : v;
  } else if (name === LM_HEAD) {
    const stepTo = new Map(chain.slice(1).map((t, i) => [t, i]));
    edit = (row, col, v) => {
      const step = stepTo.get(row);
      if (step !== undefined) return col === dimOf(step) ? 1 : 0;
      return owned(col) ? 0 : v;
    };
  } else if (name.endsWith('.o_proj.weight') || name.endsWith('.down_proj.weight')) {
    edit = (row, _col, v) => (owned(row) ? 0 : v);
  }
  if (!edit) return values;
  const change = edit;
  return (start, count) => {
    const out = values(start, count);
    for (let i = 0; i < count; i++) {
      const flat = start + i;
      out[i] = change(Math.floor(flat / cols), flat % cols, out[i]);
    }
    return out;
  };
}
