import type { CheckpointHeaders, TensorEntry } from './safetensors/safetensors.ts';

/**
 * Gemma 3's multimodal folders (Gemma3ForConditionalGeneration: gemma-3-4b/12b/27b-it) hold the text
 * model under `language_model.model.*` (transformers < 4.52) or `model.language_model.*` (newer), beside
 * a SigLIP vision tower and its projector. The engine runs the text model alone: its tensors go under
 * the text model's own names, the vision ones are left out (their bytes still stream past, unread).
 */
const TEXT_PREFIXES: [RegExp, string][] = [
  [/^language_model\.model\./, 'model.'],
  [/^model\.language_model\./, 'model.'],
  [/^language_model\.lm_head\./, 'lm_head.'],
];
const VISION = /^(model\.)?(vision_tower|multi_modal_projector)\./;

/** The text model's name of a multimodal checkpoint tensor, or null for a vision tensor. */
export function textModelName(name: string): string | null {
  if (VISION.test(name)) return null;
  for (const [re, to] of TEXT_PREFIXES) if (re.test(name)) return name.replace(re, to);
  return name;
}

/** The headers with the text model's names and without the vision tensors (see textModelName). */
export function textModelHeaders(h: CheckpointHeaders): CheckpointHeaders {
  const rename = (ts: TensorEntry[]) =>
    ts.flatMap((t) => {
      const name = textModelName(t.name);
      return name === null ? [] : [{ ...t, name }];
    });
  return {
    ...h,
    files: h.files.map((f) => ({ ...f, tensors: rename(f.tensors) })),
    tensors: rename(h.tensors).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
  };
}
