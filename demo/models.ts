/**
 * Which models the demo offers: the dev server's local model folders (`GET /models/index.json`,
 * scripts/vite-models.ts) and any Hugging Face model by id or URL. Whether the visitor has network
 * is decided by the server, so the page never makes a fetch that may fail.
 */
import type { ModelIndex } from '../scripts/vite-models.ts';

/** The default for visitors with network. */
export const DEFAULT_HF_MODEL = 'HuggingFaceTB/SmolLM2-135M-Instruct';
/** The default with no network (served from the shared assets). */
export const DEFAULT_LOCAL_MODEL = 'stories260K-hf';

export type { ModelIndex };

/** A model to load: where from, and a short name to show. */
export interface ModelChoice {
  source: 'local' | 'hf';
  /** The base URL given to engine.load(). */
  url: string;
  label: string;
}

export async function fetchModelIndex(): Promise<ModelIndex> {
  try {
    const res = await fetch('/models/index.json');
    if (!res.ok) return { models: [], network: true };
    const body = (await res.json()) as Partial<ModelIndex>;
    return {
      models: Array.isArray(body.models) ? body.models.filter((m) => typeof m === 'string') : [],
      network: body.network === true,
    };
  } catch {
    // Served by something else than the dev server: no local models known; assume network.
    return { models: [], network: true };
  }
}

const HF_ID = /^[\w.-]+\/[\w.-]+$/;
/** `owner/name/file.gguf`: one GGUF file of a Hugging Face repository. */
const HF_GGUF = /^[\w.-]+\/[\w.-]+\/[\w.-]+\.gguf$/i;

/**
 * A Hugging Face id (`owner/name`) becomes `https://huggingface.co/owner/name/resolve/main`, and
 * `owner/name/file.gguf` that URL + `/file.gguf` (the engine reads GGUF files by URL); a URL
 * (http(s), or a path on this server made absolute against `base`) is used without a trailing slash.
 * Null if neither. (The engine takes absolute URLs: a bare path would be read as a folder.)
 */
export function resolveModelUrl(input: string, base: string = location.href): string | null {
  const text = input.trim();
  if (text.length === 0) return null;
  if (/^https?:\/\//i.test(text)) return text.replace(/\/+$/, '');
  if (text.startsWith('/')) return new URL(text, base).href.replace(/\/+$/, '');
  if (HF_ID.test(text)) return `https://huggingface.co/${text}/resolve/main`;
  if (HF_GGUF.test(text)) {
    const cut = text.lastIndexOf('/');
    return `https://huggingface.co/${text.slice(0, cut)}/resolve/main${text.slice(cut)}`;
  }
  return null;
}

/** `name`: a model folder or a .gguf file of the server's models folder (`folder/file.gguf` one level down). */
export function localChoice(name: string, base: string = location.href): ModelChoice {
  const path = name.split('/').map(encodeURIComponent).join('/');
  return { source: 'local', url: new URL(`/models/${path}`, base).href, label: name };
}

/**
 * What the picker starts on: `?model=` if given, else the HF default with network, else a local model.
 * A `?model=` that is neither a local model nor a Hugging Face id or URL comes with a `note` naming
 * the local models.
 */
export function initialSelection(
  index: ModelIndex,
  param: string | null,
): { local: string | null; hfInput: string; note?: string } {
  if (param) {
    if (index.models.includes(param)) return { local: param, hfInput: DEFAULT_HF_MODEL };
    if (resolveModelUrl(param, 'http://localhost/') !== null) return { local: null, hfInput: param };
    const local = index.models.length > 0 ? index.models.join(', ') : 'none';
    return {
      local: null,
      hfInput: param,
      note: `No model “${param}” on this server (local models: ${local}); or give a Hugging Face id (owner/name, or owner/name/file.gguf) or a URL.`,
    };
  }
  if (index.network || index.models.length === 0) return { local: null, hfInput: DEFAULT_HF_MODEL };
  const local = index.models.includes(DEFAULT_LOCAL_MODEL) ? DEFAULT_LOCAL_MODEL : index.models[0];
  return { local, hfInput: DEFAULT_HF_MODEL };
}
