// A minimal ONNX writer: just enough protobuf to encode the CNN lab's network
// (Conv, Relu, MaxPool, Flatten, Gemm) with random weights, so the benchmark
// builds its onnxruntime-web model itself and needs no model file or
// converter. Field numbers are those of onnx/onnx.proto.

function varint(n) {
  const out = [];
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // int64 negatives: ten bytes, two's complement
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

const key = (field, wire) => varint((field << 3) | wire);
const concat = (parts) => {
  const len = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
const int = (field, n) => Uint8Array.from([...key(field, 0), ...varint(n)]);
const bytes = (field, b) => concat([Uint8Array.from([...key(field, 2), ...varint(b.length)]), b]);
const str = (field, s) => bytes(field, new TextEncoder().encode(s));
const msg = (field, parts) => bytes(field, concat(parts));

// AttributeProto: name 1, i 3, ints 8, type 20 (INT = 2, INTS = 7).
function attr(name, value) {
  if (Array.isArray(value)) {
    return concat([str(1, name), ...value.map((v) => int(8, v)), int(20, 7)]);
  }
  return concat([str(1, name), int(3, value), int(20, 2)]);
}

// NodeProto: input 1, output 2, name 3, op_type 4, attribute 5.
function node(op, inputs, outputs, attrs = {}) {
  return concat([
    ...inputs.map((i) => str(1, i)),
    ...outputs.map((o) => str(2, o)),
    str(3, `${op}_${outputs[0]}`),
    str(4, op),
    ...Object.entries(attrs).map(([k, v]) => msg(5, [attr(k, v)])),
  ]);
}

// TensorProto: dims 1, data_type 2 (FLOAT = 1), name 8, raw_data 9 (little endian).
function tensor(name, dims, data) {
  const raw = new Uint8Array(new Float32Array(data).buffer);
  return concat([...dims.map((d) => int(1, d)), int(2, 1), str(8, name), bytes(9, raw)]);
}

// ValueInfoProto: name 1, type 2 -> TypeProto.tensor_type 1 -> elem_type 1,
// shape 2 -> dim 1 -> dim_value 1 | dim_param 2.
function valueInfo(name, dims) {
  const dimMsgs = dims.map((d) => msg(1, [typeof d === 'string' ? str(2, d) : int(1, d)]));
  return concat([str(1, name), msg(2, [msg(1, [int(1, 1), msg(2, dimMsgs)])])]);
}

/**
 * The CNN lab's default network as an ONNX model (opset 13), input "x"
 * [N, 1, 28, 28] with a symbolic batch, output "logits" [N, 10].
 * `random()` gives uniform numbers in [0, 1).
 */
export function cnnOnnxModel(random) {
  const he = (fanIn) => () => (random() * 2 - 1) * Math.sqrt(6 / fanIn);
  const fill = (n, f) => Array.from({ length: n }, f);
  const inits = [
    tensor('w1', [8, 1, 5, 5], fill(8 * 25, he(25))),
    tensor('b1', [8], fill(8, () => 0)),
    tensor('w2', [16, 8, 5, 5], fill(16 * 200, he(200))),
    tensor('b2', [16], fill(16, () => 0)),
    tensor('wf', [10, 256], fill(10 * 256, he(256))),
    tensor('bf', [10], fill(10, () => 0)),
  ];
  const conv = { kernel_shape: [5, 5], pads: [2, 2, 2, 2], strides: [1, 1] };
  const nodes = [
    node('Conv', ['x', 'w1', 'b1'], ['c1'], conv),
    node('Relu', ['c1'], ['r1']),
    node('MaxPool', ['r1'], ['p1'], { kernel_shape: [2, 2], strides: [2, 2] }),
    node('Conv', ['p1', 'w2', 'b2'], ['c2'], conv),
    node('Relu', ['c2'], ['r2']),
    node('MaxPool', ['r2'], ['p2'], { kernel_shape: [3, 3], strides: [3, 3] }),
    node('Flatten', ['p2'], ['f'], { axis: 1 }),
    node('Gemm', ['f', 'wf', 'bf'], ['logits'], { transB: 1 }),
  ];
  // GraphProto: node 1, name 2, initializer 5, input 11, output 12.
  const graph = concat([
    ...nodes.map((n) => bytes(1, n)),
    str(2, 'deepplay_cnn'),
    ...inits.map((t) => bytes(5, t)),
    msg(11, [valueInfo('x', ['N', 1, 28, 28])]),
    msg(12, [valueInfo('logits', ['N', 10])]),
  ]);
  // ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (domain 1, version 2).
  return concat([int(1, 8), str(2, 'deepplay-bench'), bytes(7, graph), msg(8, [str(1, ''), int(2, 13)])]);
}
