/**
 * Tiny helpers for writing ONNX graphs by hand with `onnx-proto`, just enough for the two
 * tone-diffusion graphs. Tensors are stored as little-endian `raw_data`, which keeps the files
 * small and the encoding byte-identical across runs.
 */

import type { onnx as OnnxTypes } from 'onnx-proto';
import onnxProto from 'onnx-proto';

// onnx-proto is CommonJS: Node's ESM loader only exposes its `module.exports` as the default.
const { onnx } = onnxProto;

/** ONNX `TensorProto.DataType` codes used here (plain numbers: enums are not erasable TS). */
export const FLOAT = 1;
export const INT64 = 7;

/** ONNX `AttributeProto.AttributeType` codes used here. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

/** IR version 8 + opset 17: well inside what onnxruntime 1.30 runs. */
const IR_VERSION = 8;
const OPSET = 17;

export type NodeProto = OnnxTypes.INodeProto;
export type TensorProto = OnnxTypes.ITensorProto;
export type ValueInfoProto = OnnxTypes.IValueInfoProto;

/** One dimension of a graph input/output: a fixed size or a symbolic name. */
export type Dim = number | string;

/** A float32 initializer (constant weight) named `name` with the given shape. */
export function floatTensor(name: string, dims: readonly number[], values: ArrayLike<number>) {
  const data = Float32Array.from(values);
  checkSize(name, dims, data.length);
  return tensor(name, FLOAT, dims, new Uint8Array(data.buffer));
}

/** An int64 initializer (shapes, axes, indices) named `name` with the given shape. */
export function int64Tensor(name: string, dims: readonly number[], values: readonly number[]) {
  const data = BigInt64Array.from(values, (v) => BigInt(v));
  checkSize(name, dims, data.length);
  return tensor(name, INT64, dims, new Uint8Array(data.buffer));
}

function tensor(name: string, dataType: number, dims: readonly number[], rawData: Uint8Array) {
  // Typed arrays are little-endian on every platform Node runs on, which is what raw_data wants.
  return onnx.TensorProto.create({ name, dataType, dims: [...dims], rawData });
}

function checkSize(name: string, dims: readonly number[], length: number): void {
  const expected = dims.reduce((a, b) => a * b, 1);
  if (expected !== length) throw new Error(`${name}: ${length} values for shape [${dims}]`);
}

/** Attribute values a node may carry: a float, an int, or a list of ints. */
export type AttrValue = number | readonly number[] | { float: number };

/**
 * A graph node. Integer attributes are given as numbers, int lists as arrays, and float
 * attributes as `{ float: x }` (a bare number would be ambiguous).
 */
export function node(
  opType: string,
  inputs: readonly string[],
  outputs: readonly string[],
  attrs: Readonly<Record<string, AttrValue>> = {},
): NodeProto {
  const attribute = Object.entries(attrs).map(([name, value]) => {
    if (typeof value === 'number') return { name, type: ATTR_INT, i: value };
    if ('float' in value) return { name, type: ATTR_FLOAT, f: value.float };
    return { name, type: ATTR_INTS, ints: [...value] };
  });
  return onnx.NodeProto.create({
    opType,
    input: [...inputs],
    output: [...outputs],
    name: outputs[0] ?? opType,
    attribute,
  });
}

/** A typed graph input or output. */
export function valueInfo(name: string, elemType: number, dims: readonly Dim[]): ValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return onnx.ValueInfoProto.create({
    name,
    type: { tensorType: { elemType, shape: { dim } } },
  });
}

/** Everything needed to serialize one single-graph model. */
export interface GraphSpec {
  readonly name: string;
  readonly doc: string;
  readonly inputs: readonly ValueInfoProto[];
  readonly outputs: readonly ValueInfoProto[];
  readonly initializers: readonly TensorProto[];
  readonly nodes: readonly NodeProto[];
}

/** Serializes a graph as a complete `.onnx` model file. */
export function encodeModel(spec: GraphSpec): Uint8Array {
  const model = onnx.ModelProto.create({
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'overture-tone-diffusion-build',
    producerVersion: '1.0.0',
    docString: spec.doc,
    graph: {
      name: spec.name,
      input: [...spec.inputs],
      output: [...spec.outputs],
      initializer: [...spec.initializers],
      node: [...spec.nodes],
    },
  });
  return onnx.ModelProto.encode(model).finish();
}
