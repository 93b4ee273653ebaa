import { ModelFormatError, TensorTooLargeError } from '../errors.ts';
import { uploadF32 } from '../gpu/buffers.ts';
import {
  type DType,
  f32Values,
  type HostTensor,
  type ModelConfig,
  type QuantizeOption,
  tensorHostBytes,
} from '../model/types.ts';
import { weightFormat } from '../model/weights/dtype.ts';
import type { WeightFormat, WeightPart } from '../ops/weight-format.ts';
import { rowsPerPart, uploadMatrix } from './upload-matrix.ts';

export interface LayerWeights {
  attnNorm: GPUBuffer; // [D]
  wq: WeightPart[]; // [H*hd, D]
  wk: WeightPart[]; // [KV*hd, D]
  wv: WeightPart[]; // [KV*hd, D]
  bq?: GPUBuffer; // [H*hd]
  bk?: GPUBuffer; // [KV*hd]
  bv?: GPUBuffer; // [KV*hd]
  qNorm?: GPUBuffer; // [hd] (qkNorm)
  kNorm?: GPUBuffer; // [hd] (qkNorm)
  wo: WeightPart[]; // [D, H*hd]
  postAttnNorm?: GPUBuffer; // [D] (Gemma: rmsnorm of the attention output before the residual add)
  mlpNorm: GPUBuffer; // [D]
  postMlpNorm?: GPUBuffer; // [D] (Gemma: rmsnorm of the MLP output before the residual add)
  wGate: WeightPart[]; // [F, D]
  wUp: WeightPart[]; // [F, D]
  wDown: WeightPart[]; // [D, F]
}

export interface ModelWeights {
  embed: WeightPart[]; // [V, D]
  layers: LayerWeights[];
  norm: GPUBuffer; // [D]
  lmHead: WeightPart[]; // [V, D] (the embedding when tied)
  buffers: GPUBuffer[]; // every buffer above, for destroy()
  /** GPU bytes of all weight buffers (their allocated sizes). */
  bytes: number;
}

/**
 * Checks, from shapes alone (before any download), that every tensor can be placed on the device,
 * 2-D ones in the format they will have (`format` when given, else `quantize`, else their checkpoint's).
 */
export function checkTensorsFit(
  infos: { name: string; shape: number[]; dtype: DType; format?: WeightFormat }[],
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number },
  quantize?: QuantizeOption,
): void {
  const max = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  for (const t of infos) {
    const cols = t.shape.length > 1 ? t.shape[t.shape.length - 1] : t.shape[0];
    const rows = t.shape.length > 1 ? t.shape.slice(0, -1).reduce((a, b) => a * b, 1) : 1;
    if (t.shape.length <= 1 && cols * 4 > max) {
      throw new TensorTooLargeError(
        `Tensor ${t.name} (${cols * 4} B) exceeds the device's buffer limit (${max} B).`,
      );
    }
    const format = t.format ?? (t.shape.length > 1 ? (quantize ?? weightFormat(t.dtype)) : 'f32');
    rowsPerPart(t.name, rows, cols, max, format);
  }
}

export function uploadWeights(
  device: GPUDevice,
  cfg: ModelConfig,
  tensors: Map<string, HostTensor>,
  maxBindingBytes: number,
  onTensor?: (name: string, bytes: number) => void,
): ModelWeights {
  const buffers: GPUBuffer[] = [];
  let bytes = 0;
  const get = (name: string): HostTensor => {
    const t = tensors.get(name);
    if (!t) throw new ModelFormatError(`The model has no tensor ${name}.`);
    return t;
  };
  const vec = (name: string): GPUBuffer => {
    const data = f32Values(get(name)); // vectors always load as f32
    const b = uploadF32(device, data, name);
    buffers.push(b);
    bytes += b.size;
    onTensor?.(name, data.byteLength);
    return b;
  };
  // 2-D weights keep their checkpoint's 16-bit form, arrive packed, or arrive uploaded already (see
  // uploadMatrix); onTensor reports host bytes (the upload progress total is the host tensors' size),
  // `bytes` the GPU bytes.
  const mat = (name: string): WeightPart[] => {
    const t = get(name);
    const parts = t.gpu?.parts ?? uploadMatrix(device, t, maxBindingBytes);
    for (const part of parts) {
      buffers.push(part.buffer);
      bytes += part.buffer.size;
    }
    onTensor?.(name, tensorHostBytes(t));
    return parts;
  };
  const layers: LayerWeights[] = [];
  for (let i = 0; i < cfg.numLayers; i++) {
    const p = `model.layers.${i}.`;
    layers.push({
      attnNorm: vec(`${p}input_layernorm.weight`),
      wq: mat(`${p}self_attn.q_proj.weight`),
      wk: mat(`${p}self_attn.k_proj.weight`),
      wv: mat(`${p}self_attn.v_proj.weight`),
      bq: cfg.attentionBias ? vec(`${p}self_attn.q_proj.bias`) : undefined,
      bk: cfg.attentionBias ? vec(`${p}self_attn.k_proj.bias`) : undefined,
      bv: cfg.attentionBias ? vec(`${p}self_attn.v_proj.bias`) : undefined,
      qNorm: cfg.qkNorm ? vec(`${p}self_attn.q_norm.weight`) : undefined,
      kNorm: cfg.qkNorm ? vec(`${p}self_attn.k_norm.weight`) : undefined,
      wo: mat(`${p}self_attn.o_proj.weight`),
      // Gemma's post_attention_layernorm follows attention; its MLP norm is pre_feedforward_layernorm
      postAttnNorm: cfg.gemma ? vec(`${p}post_attention_layernorm.weight`) : undefined,
      mlpNorm: vec(`${p}${cfg.gemma ? 'pre_feedforward' : 'post_attention'}_layernorm.weight`),
      postMlpNorm: cfg.gemma ? vec(`${p}post_feedforward_layernorm.weight`) : undefined,
      wGate: mat(`${p}mlp.gate_proj.weight`),
      wUp: mat(`${p}mlp.up_proj.weight`),
      wDown: mat(`${p}mlp.down_proj.weight`),
    });
  }
  const embed = mat('model.embed_tokens.weight');
  const norm = vec('model.norm.weight');
  const lmHead = cfg.tieWordEmbeddings || !tensors.has('lm_head.weight') ? embed : mat('lm_head.weight');
  return { embed, layers, norm, lmHead, buffers, bytes };
}
