import { paramsBuffer } from '../gpu/buffers.ts';
import { makeOp, type Op, type RowCount } from '../gpu/op.ts';
import { ceilDiv, grid2d, type KernelContext } from './context.ts';

const WG = 256;

function elementwise(
  k: KernelContext,
  entry: 'silu_mul' | 'add',
  binds: { a: GPUBuffer; b: GPUBuffer | null; out: GPUBuffer },
  width: number,
  rows: RowCount,
  label: string,
): Op {
  const params = paramsBuffer(k.device, [{ u: width }], `${label}.params`);
  k.owned.push(params);
  const pipeline = k.pipelines.get('elementwise', entry, { WG });
  return makeOp(k.device, label, pipeline, [params, rows.buffer, binds.a, binds.b, binds.out], () =>
    grid2d(ceilDiv(rows.n * width, WG)),
  );
}

/** out = silu(gate) * up, all [n, width] */
export function siluMulOp(
  k: KernelContext,
  a: { gate: GPUBuffer; up: GPUBuffer; out: GPUBuffer; width: number; rows: RowCount; label: string },
): Op {
  return elementwise(k, 'silu_mul', { a: a.gate, b: a.up, out: a.out }, a.width, a.rows, a.label);
}

/** x += y, both [n, width] */
export function addOp(
  k: KernelContext,
  a: { x: GPUBuffer; y: GPUBuffer; width: number; rows: RowCount; label: string },
): Op {
  return elementwise(k, 'add', { a: a.y, b: null, out: a.x }, a.width, a.rows, a.label);
}
