import { ModelFileMissingError } from '../../errors.ts';
import type { GgufMetadata } from '../gguf/gguf-header.ts';
import { ggufLocation } from '../gguf/gguf-load.ts';
import { tokenizerFilesFromGguf } from '../gguf/gguf-tokenizer.ts';
import { openModelSource } from '../source/source.ts';
import type { ModelConfig } from '../types.ts';
import { createTokenizer, loadTokenizer, type Tokenizer } from './tokenizer.ts';

/**
 * The tokenizer of the model at `location`: a folder or base URL → its tokenizer.json (loadTokenizer);
 * a `.gguf` file → tokenizer.json (+ tokenizer_config.json) beside it when there is one, else built
 * from the GGUF metadata `tokenizer.ggml.*` (`from.ggufMetadata`, as loadModelFiles' beforeWeights gets
 * it) by tokenizerFilesFromGguf, chat template from `tokenizer.chat_template`.
 */
export async function loadModelTokenizer(
  location: string,
  config: ModelConfig,
  from: { ggufMetadata?: GgufMetadata },
  signal?: AbortSignal,
): Promise<Tokenizer> {
  const gguf = ggufLocation(location);
  if (!gguf) return loadTokenizer(openModelSource(location), config, signal);
  const beside = openModelSource(gguf.base);
  if (await beside.exists('tokenizer.json', signal)) return loadTokenizer(beside, config, signal);
  if (!from.ggufMetadata) {
    throw new ModelFileMissingError(
      `${location}: no tokenizer.json beside it and no GGUF metadata to build one from.`,
    );
  }
  return createTokenizer(tokenizerFilesFromGguf(from.ggufMetadata), config);
}
