// DeepPlay's benchmark: DeepPlay (Rust -> wasm, with and without simd128)
// next to ConvNetJS, TensorFlow.js (cpu and wasm backends) and
// onnxruntime-web, in one node process, one thread, on the same data.
//
//   bash bench/run.sh            full run: writes bench/results.json, bench/README.md
//   bash bench/run.sh --smoke    a few iterations, results to a temporary file
//
// Every figure is the median of several timed repetitions after warm-up
// (min and max are kept too). DeepPlay times itself inside wasm with
// performance.now(); the peers are timed around their calls here.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { cnnOnnxModel } from './onnx.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const smoke = process.argv.includes('--smoke');
const started = Date.now();
const log = (...a) => console.error('bench:', ...a);

// Repetitions: [warm-up, timed]. The smoke run only proves the path works.
const R = smoke
  ? { dp: [1, 2], tf: [1, 2], peerFast: [1, 2], peerSlow: [1, 1], gemm: [1, 2], peak: [1, 2], gemmFlops: 2e6, peakIters: 2e6 }
  : { dp: [5, 40], tf: [10, 100], peerFast: [10, 25], peerSlow: [1, 5], gemm: [3, 9], peak: [3, 9], gemmFlops: 4e7, peakIters: 2e7 };
const TFJS_CPU_REPS = [1, 3]; // ~3.4 s per step: kept low on purpose

const dp = require('./pkg/deepplay_bench.js');
const dpNoSimd = require('./pkg-nosimd/deepplay_bench.js');
if (!dp.simd_enabled()) throw new Error('bench/pkg was built without simd128');
if (dpNoSimd.simd_enabled()) throw new Error('bench/pkg-nosimd was built with simd128');

// ---------------------------------------------------------------- helpers

function summary(times) {
  const s = [...times].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], n: s.length };
}

/** fn() returns milliseconds (or a promise of them). */
async function measure(fn, [warmup, reps]) {
  for (let i = 0; i < warmup; i++) await fn();
  const times = [];
  for (let i = 0; i < reps; i++) times.push(await fn());
  return summary(times);
}

/** Time a synchronous call from JS. */
const timeit = (f) => () => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
};

/** Run a peer's section; a failure is recorded as its result, never hidden. */
async function attempt(what, f) {
  try {
    return await f();
  } catch (e) {
    const error = String(e && e.message ? e.message : e).split('\n')[0];
    log(`${what}: ${error}`);
    return { error };
  }
}

function mulberry32(seed) {
  return () => {
    seed |= 0;
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const fmt = (v, d = 2) => (v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(d));
const cell = (r, d = 2) => (r && !r.error && r.median !== undefined ? `${fmt(r.median, d)} (${fmt(r.min, d)}–${fmt(r.max, d)})` : r && r.error ? `fails: \`${r.error}\`` : 'not run');

// `node bench/bench.mjs --readme-only`: rewrite README.md (and the figures
// derived from the measurements in results.json) from results.json after a
// change to the report; measures nothing.
if (process.argv.includes('--readme-only')) {
  const saved = JSON.parse(fs.readFileSync(path.join(here, 'results.json'), 'utf8'));
  if (saved.sequences?.breakdown) saved.sequences.breakdown.note = gruBreakdownNote();
  if (saved.transformer?.breakdown) saved.transformer.breakdown.note = attentionBreakdownNote();
  const markdown = readme(saved);
  fs.writeFileSync(path.join(here, 'results.json'), JSON.stringify(saved, null, 2) + '\n');
  fs.writeFileSync(path.join(here, 'README.md'), markdown);
  log('rewrote README.md from results.json (no measurement)');
  process.exit(0);
}

// ---------------------------------------------------------------- data

const BATCH = 32;
const N_IMAGES = 256;
const images = dp.mnist_like_images(N_IMAGES, 1); // Float32Array, N x 784
const labels = dp.mnist_like_labels(N_IMAGES, 1); // Uint32Array
const results = {
  when: new Date().toISOString(),
  smoke,
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    loadavg_at_start: os.loadavg(),
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
    memory_gib: +(os.totalmem() / 2 ** 30).toFixed(1),
  },
  versions: {},
  settings: {
    threads: 1,
    batch: BATCH,
    data: `MNIST-shaped synthetic digits (${N_IMAGES} x 1 x 28 x 28, ~80% zeros, from DeepPlay's seeded Rng), the same arrays for every library`,
    reps_deepplay: R.dp,
    reps_fast_peers: R.peerFast,
    reps_slow_peers: R.peerSlow,
    reps_tfjs_cpu: TFJS_CPU_REPS,
  },
};
for (const p of ['convnetjs', '@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-web']) {
  results.versions[p] = JSON.parse(fs.readFileSync(path.join(here, 'node_modules', p, 'package.json'), 'utf8')).version;
}

// ---------------------------------------------------------------- peak

log('simd128 peak');
results.peak = {};
for (const [name, mod] of [
  ['simd128', dp],
  ['scalar (no simd128 build)', dpNoSimd],
]) {
  const by = {};
  for (const acc of [8, 12, 16]) {
    mod.peak_gflops(acc, 1e5); // let the engine tier the loop up
    const gflops = [];
    for (let i = 0; i < R.peak[0] + R.peak[1]; i++) gflops.push(mod.peak_gflops(acc, R.peakIters));
    by[acc] = summary(gflops.slice(R.peak[0]));
  }
  // A peak is a capability: other processes can only lower it, so take the
  // best repetition of the best chain count (medians are kept as well).
  const best = Object.entries(by).reduce((a, b) => (b[1].max > a[1].max ? b : a));
  results.peak[name] = { gflops: best[1].max, median_gflops: best[1].median, accumulators: +best[0], by_accumulators: by };
}
const PEAK = results.peak.simd128.gflops;

// ---------------------------------------------------------------- GEMM

// The Attention lab's defaults, as the bench crate builds them (the core's
// Transformer on the who-did-what task): its GEMM shapes follow from these.
const TF = (() => {
  const t = dp.TransformerBench.lab_default();
  const c = {
    batch: t.batch(),
    length: t.length(),
    d_model: t.d_model(),
    heads: t.heads(),
    layers: t.layers(),
    ff: t.ff(),
    vocab: t.vocab(),
    classes: t.classes(),
    every_position: t.every_position(),
  };
  t.free();
  return c;
})();

/** The Attention lab's GEMMs at its defaults: what `linear` runs forward
 * (x W^T + b) and backward (dX = G W, dW = G^T X), and the per-head batched
 * products of attention (Q K^T, A V) and their gradients, with the part of
 * the step's breakdown each belongs to and its calls per step. */
function attentionGemms() {
  const { batch: N, length: L, d_model: E, heads, layers: Ls, ff: F, classes: C } = TF;
  const R = N * L; // rows of every linear: all tokens of the batch
  const D = E / heads;
  const H = N * heads; // products per batched call
  const Rh = TF.every_position ? R : N; // rows of the read-out
  const Lm = Math.ceil(L / 4) * 4; // L x L in whole 4 x 8 tiles
  const Ln = Math.ceil(L / 8) * 8;
  const lab = (s) => `Attention lab: ${s}`;
  return [
    [lab(`scores, ${H} heads per call: Q[${L}x${D}] · K^T[${D}x${L}] (and context's dA = G V^T)`), L, D, L, false, true, { batch: H, tf: [['scores', Ls, 0], ['context', 0, Ls]] }],
    [lab(`context, ${H} heads per call: A[${L}x${L}] · V[${L}x${D}] (and scores' dQ = G K)`), L, L, D, false, false, { batch: H, tf: [['context', Ls, 0], ['scores', 0, Ls]] }],
    [lab(`scores' dK = G^T Q and context's dV = A^T G, ${H} per call: [${L}x${L}]^T · [${L}x${D}]`), L, L, D, true, false, { batch: H, tf: [['scores', 0, Ls], ['context', 0, Ls]] }],
    [lab(`scores, one head per call: Q[${L}x${D}] · K^T[${D}x${L}]`), L, D, L, false, true, { unused: true }],
    [lab(`context, one head per call: A[${L}x${L}] · V[${L}x${D}]`), L, L, D, false, false, { unused: true }],
    [lab(`Q, K, V and out-projections: x[${R}x${E}] · W^T[${E}x${E}]`), R, E, E, false, true, { tf: [['qkv', 3 * Ls, 0], ['out', Ls, 0]] }],
    [lab(`in_proj as one GEMM: x[${R}x${E}] · W_in^T[${E}x${3 * E}] (the core runs it as three narrowed ones)`), R, E, 3 * E, false, true, { unused: true }],
    [lab(`linear1: x[${R}x${E}] · W1^T[${E}x${F}]`), R, E, F, false, true, { tf: [['mlp', Ls, 0]] }],
    [lab(`linear2: h[${R}x${F}] · W2^T[${F}x${E}]`), R, F, E, false, true, { tf: [['mlp', Ls, 0]] }],
    [lab(`projections' dX: G[${R}x${E}] · W[${E}x${E}]`), R, E, E, false, false, { tf: [['qkv', 0, 3 * Ls], ['out', 0, Ls]] }],
    [lab(`linear1 dX: G[${R}x${F}] · W1[${F}x${E}]`), R, F, E, false, false, { tf: [['mlp', 0, Ls]] }],
    [lab(`linear2 dX: G[${R}x${E}] · W2[${E}x${F}]`), R, E, F, false, false, { tf: [['mlp', 0, Ls]] }],
    [lab(`projections' dW: G^T[${E}x${R}] · x[${R}x${E}]`), E, R, E, true, false, { tf: [['qkv', 0, 3 * Ls], ['out', 0, Ls]] }],
    [lab(`linear1 dW: G^T[${F}x${R}] · x[${R}x${E}]`), F, R, E, true, false, { tf: [['mlp', 0, Ls]] }],
    [lab(`linear2 dW: G^T[${E}x${R}] · h[${R}x${F}]`), E, R, F, true, false, { tf: [['mlp', 0, Ls]] }],
    [lab(`read-out: x[${Rh}x${E}] · W^T[${E}x${C}]`), Rh, E, C, false, true, { tf: [['readout', 1, 0]] }],
    [lab(`read-out dX: G[${Rh}x${C}] · W[${C}x${E}]`), Rh, C, E, false, false, { tf: [['readout', 0, 1]] }],
    [lab(`read-out dW: G^T[${C}x${Rh}] · x[${Rh}x${E}]`), C, Rh, E, true, false, { tf: [['readout', 0, 1]] }],
    // Probes for the per-head products' fixed costs (comparison only): the
    // same inner size and batch, in whole 4x8 register tiles or not, B
    // packed (B^T, as Q K^T has it) or read in place.
    [`probe: one 4x8 tile per product, B in place: [4x${D}] · [${D}x8], ${H} per call`, 4, D, 8, false, false, { batch: H, unused: true, probe: 'one tile' }],
    [`probe: whole tiles, B in place: [${Lm}x${D}] · [${D}x${Ln}], ${H} per call`, Lm, D, Ln, false, false, { batch: H, unused: true, probe: 'whole, in place' }],
    [`probe: whole tiles, B^T packed: [${Lm}x${D}] · K^T[${D}x${Ln}], ${H} per call`, Lm, D, Ln, false, true, { batch: H, unused: true, probe: 'whole, packed' }],
    [`probe: the scores' ${L} x ${L}, B in place: [${L}x${D}] · [${D}x${L}], ${H} per call`, L, D, L, false, false, { batch: H, unused: true, probe: 'edge, in place' }],
  ];
}

const GEMM_SHAPES = [
  ['square 64', 64, 64, 64],
  ['square 128', 128, 128, 128],
  ['square 256', 256, 256, 256],
  ['conv1 fwd, per sample: W[8x25] · cols[25x784]', 8, 25, 784],
  ['conv1 fwd, batch 32: W[8x25] · cols[25x25088]', 8, 25, 25088, false, false, { unused: true }],
  ['conv1 fwd, batch 32, row-major im2col: cols[25088x25] · W^T[25x8]', 25088, 25, 8, false, true, { unused: true }],
  ['conv1 dW, per sample: G[8x784] · cols^T[784x25]', 8, 784, 25, false, true],
  ['conv1 dW, batch 32: G[8x25088] · cols^T[25088x25]', 8, 25088, 25, false, true, { unused: true }],
  ['conv2 fwd, per sample: W[16x200] · cols[200x196]', 16, 200, 196],
  ['conv2 fwd, batch 32: W[16x200] · cols[200x6272]', 16, 200, 6272, false, false, { unused: true }],
  ['conv2 dW, per sample: G[16x196] · cols^T[196x200]', 16, 196, 200, false, true],
  ['conv2 dW, batch 32: G[16x6272] · cols^T[6272x200]', 16, 6272, 200, false, true, { unused: true }],
  ['conv2 dcols, per sample: W^T[200x16] · G[16x196]', 200, 16, 196, true, false],
  ['conv2 dcols, batch 32: W^T[200x16] · G[16x6272]', 200, 16, 6272, true, false, { unused: true }],
  ['fc fwd: x[32x256] · W^T[256x10]', 32, 256, 10, false, true],
  // The Attention lab at its defaults (shapes from TF above).
  ...attentionGemms(),
  // Heads of 16 over 16 tokens (d 64, 4 heads: what the benchmark timed
  // before the lab had its model; comparison only).
  ['16-token heads of 16, 128 per call: Q[16x16] · K^T[16x16]', 16, 16, 16, false, true, { batch: 128, unused: true }],
  ['16-token heads of 16, 128 per call: A[16x16] · V[16x16]', 16, 16, 16, false, false, { batch: 128, unused: true }],
  // The Sequences lab's GRU step (T 40, N 32, 9 features, H 32, 4 classes):
  // what `linear` runs forward (x W^T + b) and backward (dX = G W, dW = G^T X).
  ['GRU input projection, all 40 steps: x[1280x9] · W_ih^T[9x96]', 1280, 9, 96, false, true, { gru: 'input projection (linear, all steps in one GEMM)', fwd: 1 }],
  ['GRU recurrent product, one step: h[32x32] · W_hh^T[32x96]', 32, 32, 96, false, true, { gru: 'recurrent product (linear, one per step)', fwd: 40 }],
  ['GRU read-out: h_T[32x32] · W^T[32x4]', 32, 32, 4, false, true, { gru: 'read-out (linear)', fwd: 1 }],
  ['GRU read-out dh: G[32x4] · W[4x32]', 32, 4, 32, false, false, { gru: 'read-out (linear)', bwd: 1 }],
  ['GRU read-out dW: G^T[4x32] · h_T[32x32]', 4, 32, 32, true, false, { gru: 'read-out (linear)', bwd: 1 }],
  ['GRU recurrent dh, one step: G[32x96] · W_hh[96x32]', 32, 96, 32, false, false, { gru: 'recurrent product (linear, one per step)', bwd: 39 }],
  ['GRU recurrent dW_hh, one step: G^T[96x32] · h[32x32]', 96, 32, 32, true, false, { gru: 'recurrent product (linear, one per step)', bwd: 40 }],
  ['GRU input dW_ih: G^T[96x1280] · x[1280x9]', 96, 1280, 9, true, false, { gru: 'input projection (linear, all steps in one GEMM)', bwd: 1 }],
  // The input projection's layout at larger inner sizes: how the kernel's
  // rate depends on k (comparison only; the measured reason for k = 9).
  ['k sweep: x[1280x16] · W^T[16x96]', 1280, 16, 96, false, true, { unused: true, sweep: true }],
  ['k sweep: x[1280x32] · W^T[32x96]', 1280, 32, 96, false, true, { unused: true, sweep: true }],
  ['k sweep: x[1280x64] · W^T[64x96]', 1280, 64, 96, false, true, { unused: true, sweep: true }],
];

log('GEMM');
results.gemm = [];
// Warm-up pass over every shape and path first: V8 runs wasm functions in its
// baseline compiler until it has tiered hot ones up in the background, which
// otherwise lands on whichever path the first row times first.
for (const [, m, k, n, ta = false, tb = false, opts = {}] of GEMM_SHAPES) {
  const g = new dp.Gemm(m, k, n, ta, tb);
  const iters = Math.max(1, Math.round(R.gemmFlops / (2 * m * k * n)));
  g.run(iters);
  g.run_kernel(iters);
  if (opts.batch) g.run_kernel_batched(opts.batch, Math.max(1, Math.round(iters / opts.batch)));
  if (g.has_op()) g.run_op(iters);
  g.free();
}
for (const [name, m, k, n, ta = false, tb = false, opts = {}] of GEMM_SHAPES) {
  const row = { name, m, k, n, trans_a: ta, trans_b: tb, batch: opts.batch ?? 1, used_by_an_op: !opts.unused };
  if (opts.gru) row.gru_step = { part: opts.gru, forward_calls: opts.fwd ?? 0, backward_calls: opts.bwd ?? 0 };
  if (opts.tf) row.attention_step = opts.tf.map(([part, fwd, bwd]) => ({ part, forward_calls: fwd, backward_calls: bwd }));
  if (opts.sweep) row.k_sweep = true;
  if (opts.probe) row.probe = opts.probe;
  const iters = Math.max(1, Math.round(R.gemmFlops / (2 * m * k * n)));
  // flops: products per call (the batch) x calls x flops of one product.
  const gf = (g, f, calls = iters, per = 1) => {
    const s = [];
    for (let i = 0; i < R.gemm[0] + R.gemm[1]; i++) s.push((per * g.flops() * calls) / (f(calls) * 1e6));
    return summary(s.slice(R.gemm[0]));
  };
  const g = new dp.Gemm(m, k, n, ta, tb);
  const h = new dpNoSimd.Gemm(m, k, n, ta, tb);
  row.iters = iters;
  row.ndarray_simd = gf(g, (it) => g.run(it));
  row.ndarray_nosimd = gf(h, (it) => h.run(it));
  row.deepplay_kernel = opts.batch
    ? gf(g, (it) => g.run_kernel_batched(opts.batch, it), Math.max(1, Math.round(iters / opts.batch)), opts.batch)
    : gf(g, (it) => g.run_kernel(it));
  row.deepplay_op = g.has_op() && !opts.batch ? gf(g, (it) => g.run_op(it)) : null;
  row.pct_of_peak = (100 * row.ndarray_simd.median) / PEAK;
  row.kernel_pct_of_peak = (100 * row.deepplay_kernel.median) / PEAK;
  g.free();
  h.free();
  results.gemm.push(row);
}

// ---------------------------------------------------------------- CNN training

const cnn = new dp.CnnBench(images, labels, BATCH, 1e-3);
results.cnn_params = cnn.num_params();
// Forward+backward FLOPs of one step (the GEMMs; everything else is O(size)).
const perSample = 2 * 8 * 25 * 784 * 2 /* conv1 fwd, dW */ + 2 * 16 * 200 * 196 * 3 /* conv2 fwd, dW, dX */ + 2 * 256 * 10 * 3;
results.cnn_step_mflop = (perSample * BATCH) / 1e6;

log('CNN training step: DeepPlay');
results.train = {};
results.train.deepplay = await measure(() => cnn.train_step(), R.dp);
results.train.deepplay.loss_after = cnn.last_loss();
results.train.deepplay.gflops = results.cnn_step_mflop / results.train.deepplay.median;

log('CNN step breakdown: DeepPlay');
{
  const names = dp.CnnBench.breakdown_names();
  const runs = [];
  for (let i = 0; i < R.dp[0] + R.dp[1]; i++) runs.push(cnn.breakdown());
  const timed = runs.slice(R.dp[0]);
  const parts = names.map((name, j) => ({ name, ...summary(timed.map((t) => t[j])) }));
  // Sum of the medians (a per-run sum would pick up every disturbance of any part).
  const sumOfParts = parts.reduce((a, p) => a + p.median, 0);
  results.breakdown = {
    parts,
    sum_of_parts: sumOfParts,
    median_of_per_run_sums: summary(timed.map((t) => t.reduce((a, b) => a + b, 0))).median,
    whole_step: results.train.deepplay.median,
    overhead: results.train.deepplay.median - sumOfParts,
    note: 'each op timed on a graph of its own (its input a leaf); overhead = whole train_step minus the sum of the parts: building the tape, cloning parameters and the batch into it, gathering gradients',
  };
}

// ConvNetJS: the same network (its softmax layer adds the FC 10), f64,
// one example at a time; its Trainer with batch_size 32 updates once per 32
// train() calls, so 32 calls are one step. It has no Adam: adadelta, as in its MNIST demo.
const convnetjs = require('convnetjs');
function convnetjsNet() {
  const net = new convnetjs.Net();
  net.makeLayers([
    { type: 'input', out_sx: 28, out_sy: 28, out_depth: 1 },
    { type: 'conv', sx: 5, filters: 8, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 2, stride: 2 },
    { type: 'conv', sx: 5, filters: 16, stride: 1, pad: 2, activation: 'relu' },
    { type: 'pool', sx: 3, stride: 3 },
    { type: 'softmax', num_classes: 10 },
  ]);
  return net;
}
const vols = Array.from({ length: N_IMAGES }, (_, i) => {
  const v = new convnetjs.Vol(28, 28, 1, 0.0);
  for (let j = 0; j < 784; j++) v.w[j] = images[i * 784 + j];
  return v;
});

log('CNN training step: ConvNetJS');
results.train.convnetjs = await attempt('convnetjs', async () => {
  const net = convnetjsNet();
  const trainer = new convnetjs.SGDTrainer(net, { method: 'adadelta', batch_size: BATCH, l2_decay: 0.001 });
  let loss = NaN;
  const r = await measure(
    timeit(() => {
      let sum = 0;
      for (let i = 0; i < BATCH; i++) sum += trainer.train(vols[i], labels[i]).cost_loss;
      loss = sum / BATCH;
    }),
    R.peerSlow
  );
  return { ...r, loss_after: loss, optimizer: 'adadelta (ConvNetJS has no Adam)' };
});

// TensorFlow.js: the same network in NHWC (with one channel the image data is identical).
const tf = require('@tensorflow/tfjs');
const tfWasm = require('@tensorflow/tfjs-backend-wasm');
tfWasm.setWasmPaths(path.join(here, 'node_modules/@tensorflow/tfjs-backend-wasm/dist') + path.sep);
tfWasm.setThreadsCount(1);
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
function tfModel() {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 8, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
      tf.layers.conv2d({ filters: 16, kernelSize: 5, padding: 'same', activation: 'relu' }),
      tf.layers.maxPooling2d({ poolSize: 3, strides: 3 }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 10 }),
    ],
  });
}
async function tfTrain(backend, reps) {
  await tf.setBackend(backend);
  await tf.ready();
  const model = tfModel();
  const opt = tf.train.adam(1e-3);
  const xs = tf.tensor4d(images.subarray(0, BATCH * 784), [BATCH, 28, 28, 1]);
  const ys = tf.oneHot(tf.tensor1d(Array.from(labels.subarray(0, BATCH)), 'int32'), 10);
  let loss = NaN;
  try {
    const r = await measure(
      timeit(() => {
        const l = opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true })), true);
        loss = l.dataSync()[0];
        l.dispose();
      }),
      reps
    );
    return { ...r, loss_after: loss, backend: tf.getBackend() };
  } finally {
    xs.dispose();
    ys.dispose();
    model.dispose();
    opt.dispose();
  }
}

if (smoke) {
  results.train.tfjs_cpu = { error: 'skipped in the smoke run (about 3.4 s per step)' };
} else {
  log('CNN training step: TF.js cpu (slow)');
  results.train.tfjs_cpu = await attempt('tfjs cpu', () => tfTrain('cpu', TFJS_CPU_REPS));
}
log('CNN training step: TF.js wasm');
results.train.tfjs_wasm = await attempt('tfjs wasm', () => tfTrain('wasm', R.peerFast));

for (const k of Object.keys(results.train)) {
  const r = results.train[k];
  if (!r.error && results.train.convnetjs && !results.train.convnetjs.error) {
    r.speedup_vs_convnetjs = results.train.convnetjs.median / r.median;
  }
}

// ---------------------------------------------------------------- inference

log('CNN inference');
results.inference = {};
for (const batch of [1, 256]) {
  // Batch 1 is cheap: many repetitions; the wasm engines get a long warm-up either way.
  const reps = batch === 1 ? [R.peerFast[0] * 2, R.peerFast[1] * 2] : R.peerFast;
  const row = {};
  row.deepplay = await attempt('deepplay inference', () => measure(() => cnn.inference(batch), reps));
  if (row.deepplay.error) throw new Error(`DeepPlay inference failed: ${row.deepplay.error}`);
  row.deepplay_nosimd = await attempt('deepplay nosimd inference', async () => {
    const c = new dpNoSimd.CnnBench(images, labels, BATCH, 1e-3);
    const r = await measure(() => c.inference(batch), batch === 1 ? R.dp : R.peerSlow);
    c.free();
    return r;
  });
  row.tfjs_wasm = await attempt('tfjs wasm inference', async () => {
    await tf.setBackend('wasm');
    await tf.ready();
    const model = tfModel();
    const x = tf.tensor4d(images.subarray(0, batch * 784), [batch, 28, 28, 1]);
    const r = await measure(
      timeit(() => {
        const y = model.predict(x);
        y.dataSync();
        y.dispose();
      }),
      reps
    );
    x.dispose();
    model.dispose();
    return { ...r, simd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') };
  });
  row.onnxruntime_web = await attempt('onnxruntime-web inference', async () => {
    const ort = require('onnxruntime-web');
    ort.env.wasm.numThreads = 1;
    const session = await ort.InferenceSession.create(cnnOnnxModel(mulberry32(7)), {
      executionProviders: ['wasm'],
      graphOptimizationLevel: 'all',
    });
    const x = new ort.Tensor('float32', images.slice(0, batch * 784), [batch, 1, 28, 28]);
    const r = await measure(async () => {
      const t0 = performance.now();
      const out = await session.run({ x });
      out.logits.data;
      return performance.now() - t0;
    }, reps);
    await session.release();
    return r;
  });
  row.convnetjs = await attempt('convnetjs inference', async () => {
    const net = convnetjsNet();
    return measure(
      timeit(() => {
        for (let i = 0; i < batch; i++) net.forward(vols[i], false);
      }),
      batch === 1 ? R.peerFast : R.peerSlow
    );
  });
  results.inference[`batch_${batch}`] = row;
}

// ---------------------------------------------------------------- Attention lab

// The lab's defaults: the core's Transformer on who-did-what (see TF above),
// Adam 0.003, clipping at a global norm of 1, weights and one batch from
// seed 1 (the lab draws a fresh batch each step; here it is made once,
// outside the timer).
log('Attention lab training step, its phases and its breakdown: DeepPlay');
results.transformer = {
  settings: {
    ...TF,
    task: `who-did-what: a question token (who? / whom?) and a sentence of a tiny grammar (active or passive), ${TF.length} tokens with padding, vocabulary ${TF.vocab}; the answer (one of ${TF.classes} nouns) is read at the question token only`,
    model: `the core's \`Transformer\`: embedding + sinusoidal positions, ${TF.layers} pre-norm encoder layers (self-attention with ${TF.heads} heads of width ${TF.d_model / TF.heads}, d_model ${TF.d_model}; MLP ${TF.d_model}-${TF.ff}-${TF.d_model} with ReLU), final LayerNorm, Linear(${TF.d_model} -> ${TF.classes}) at the first position; cross-entropy; Adam 0.003, gradient clipping at a global norm of 1; batch ${TF.batch}, the same batch every step; seed 1`,
    reps: R.tf,
  },
};
// The whole step, its phases and its parts are timed in turn within each
// repetition, so that all three see the same load on the machine.
{
  const t = dp.TransformerBench.lab_default();
  t.train_step();
  const lossFirst = t.last_loss();
  let lossAfter = NaN;
  const steps = [];
  const phases = [];
  const parts = [];
  for (let i = 0; i < R.tf[0] + R.tf[1]; i++) {
    steps.push(t.train_step());
    lossAfter = t.last_loss(); // the model's (phases and breakdown train a replica)
    phases.push(t.phases());
    parts.push(t.breakdown());
  }
  results.transformer.deepplay = { params: t.num_params(), ...summary(steps.slice(R.tf[0])), loss_first: lossFirst, loss_after: lossAfter, steps: 1 + R.tf[0] + R.tf[1] };
  const whole = results.transformer.deepplay.median;
  const cut = (names, runs) => {
    const timed = runs.slice(R.tf[0]);
    const ps = names.map((name, j) => ({ name, ...summary(timed.map((x) => x[j])) }));
    const sumOfParts = ps.reduce((a, p) => a + p.median, 0);
    return {
      parts: ps,
      sum_of_parts: sumOfParts,
      median_of_per_run_sums: summary(timed.map((x) => x.reduce((a, v) => a + v, 0))).median,
      whole_step: whole,
      overhead: whole - sumOfParts,
    };
  };
  results.transformer.phases = cut(dp.TransformerBench.phase_names(), phases);
  results.transformer.breakdown = { ...cut(dp.TransformerBench.breakdown_names(), parts), note: attentionBreakdownNote() };
  t.free();
}
results.transformer.deepplay_nosimd = await attempt('deepplay_nosimd transformer', async () => {
  const t = dpNoSimd.TransformerBench.lab_default();
  t.train_step();
  const lossFirst = t.last_loss();
  const r = await measure(() => t.train_step(), R.dp);
  const out = { params: t.num_params(), ...r, loss_first: lossFirst, loss_after: t.last_loss(), steps: 1 + R.dp[0] + R.dp[1], reps: R.dp };
  t.free();
  return out;
});
cnn.free();

// ---------------------------------------------------------------- Diffusion lab

// The lab's defaults: the core's PointDenoiser on the ring of 8 Gaussians,
// T = 100 (linear schedule), 3 hidden layers of 64 (ReLU), batch 256, Adam
// 0.002, seed 1; one batch of clean points made outside the timer (timesteps
// and noise are drawn inside the step, as in the lab). Then the time to draw
// 64 samples through all 100 steps of DDPM's sampler.
log('Diffusion lab training step, its phases, and sampling: DeepPlay');
results.diffusion = await attempt('deepplay diffusion', async () => {
  const d = dp.DiffusionBench.lab_default();
  d.train_step();
  const lossFirst = d.last_loss();
  let lossAfter = NaN;
  const steps = [];
  const phases = [];
  for (let i = 0; i < R.tf[0] + R.tf[1]; i++) {
    steps.push(d.train_step());
    lossAfter = d.last_loss();
    phases.push(d.phases());
  }
  const timed = phases.slice(R.tf[0]);
  const names = dp.DiffusionBench.phase_names();
  const out = {
    settings: {
      data: 'ring of 8 Gaussians (radius 2, std 0.1)',
      model: 'the core\'s `PointDenoiser`: MLP on [x (2), sinusoidal(t) (32)] -> 64 -> 64 -> 64 -> 2 with ReLU; noise-prediction MSE; Adam 0.002',
      steps_T: 100,
      batch: 256,
      reps: R.tf,
    },
    deepplay: { params: d.num_params(), ...summary(steps.slice(R.tf[0])), loss_first: lossFirst, loss_after: lossAfter },
    phases: names.map((name, j) => ({ name, ...summary(timed.map((x) => x[j])) })),
    sample_64: await measure(() => d.sample(64), R.dp),
    sample_1000: await measure(() => d.sample(1000), smoke ? [0, 1] : [1, 5]),
  };
  d.free();
  return out;
});

// ---------------------------------------------------------------- GAN lab

// The lab's defaults: generator 2 -> 64 -> 64 -> 2 and discriminator
// 2 -> 64 -> 64 -> 1 (ReLU), the non-saturating loss, batch 256, Adam 0.001
// with beta1 0.5. A step is one discriminator update then one generator
// update, as the lab runs it with 1 D step per G step. DeepPlay draws its
// noise inside the step (as the lab does); TensorFlow.js gets the same real
// batch and a fixed noise array made outside the timer.
log('GAN lab training step: DeepPlay');
results.gan = await attempt('deepplay gan', async () => {
  const out = {
    settings: {
      data: 'ring of 8 Gaussians (radius 2, std 0.1)',
      model: 'generator MLP 2 -> 64 -> 64 -> 2 and discriminator MLP 2 -> 64 -> 64 -> 1, ReLU; non-saturating loss (softplus of the logits); Adam 0.001, beta1 0.5',
      batch: 256,
      noise_dim: 2,
      reps: R.tf,
    },
  };
  for (const [key, make] of [
    ['deepplay', () => dp.GanBench.lab_default()],
    ['deepplay_wgan', () => dp.GanBench.wasserstein()],
    ['deepplay_nosimd', () => dpNoSimd.GanBench.lab_default()],
  ]) {
    out[key] = await attempt(key, async () => {
      const b = make();
      const parts = [];
      for (let i = 0; i < R.tf[0] + R.tf[1]; i++) parts.push(b.train_step_parts());
      const timed = parts.slice(R.tf[0]);
      const r = {
        params: b.num_params(),
        ...summary(timed.map(([d, g]) => d + g)),
        d_update: summary(timed.map(([d]) => d)),
        g_update: summary(timed.map(([, g]) => g)),
        d_loss: b.d_loss(),
        g_loss: b.g_loss(),
      };
      b.free();
      return r;
    });
  }
  const real = (() => {
    const b = dp.GanBench.lab_default();
    const r = b.real_points();
    b.free();
    return r;
  })();
  const noise = dp.GanBench.noise(256);
  for (const backend of ['cpu', 'wasm']) {
    log(`GAN lab training step: TF.js ${backend}`);
    out[`tfjs_${backend}`] = await attempt(`tfjs ${backend} gan`, () => tfGanStep(backend, real, noise, smoke ? [1, 2] : [10, 100]));
  }
  return out;
});

// ---------------------------------------------------------------- Detection lab

// The lab's defaults: convolutions of 8, 16, 32 and 32 3x3 filters (max-pool
// after the first three) on 64x64 colour scenes, a 1x1 head to an 8x8 grid
// of 8 channels, batch 16 of fresh scenes, Adam 0.003. The step is cut into
// its phases: drawing the scenes and targets, forward, the YOLO loss,
// backward, update. No peer runs this model; the table is DeepPlay's own.
log('Detection lab training step: DeepPlay');
results.detection = await attempt('deepplay detection', async () => {
  const out = {
    settings: {
      data: '16 fresh random scenes per step (64x64 RGB, 1 to 4 circles, squares and triangles on a noisy background)',
      model: 'conv 3x3 8 -> pool -> conv 16 -> pool -> conv 32 -> pool -> conv 32 -> 1x1 head to 8x8 cells x (5 + 3); YOLO loss; Adam 0.003',
      batch: 16,
      reps: R.tf,
    },
  };
  const names = ['scenes', 'forward', 'loss', 'backward', 'update'];
  for (const [key, make] of [
    ['deepplay', () => dp.DetectionBench.lab_default()],
    ['deepplay_nosimd', () => dpNoSimd.DetectionBench.lab_default()],
  ]) {
    out[key] = await attempt(key, async () => {
      const b = make();
      const phases = [];
      for (let i = 0; i < R.tf[0] + R.tf[1]; i++) phases.push(b.train_step_phases());
      const timed = phases.slice(R.tf[0]);
      const whole = [];
      for (let i = 0; i < R.tf[0] + R.tf[1]; i++) whole.push(b.train_step());
      const r = {
        params: b.num_params(),
        ...summary(whole.slice(R.tf[0])),
        phases: Object.fromEntries(names.map((n, k) => [n, summary(timed.map((p) => p[k]))])),
        loss: b.loss(),
      };
      b.free();
      return r;
    });
  }
  return out;
});

async function tfGanStep(backend, realData, noiseData, reps) {
  await tf.setBackend(backend);
  await tf.ready();
  const mlp = (inputs, outputs) =>
    tf.sequential({
      layers: [
        tf.layers.dense({ inputShape: [inputs], units: 64, activation: 'relu' }),
        tf.layers.dense({ units: 64, activation: 'relu' }),
        tf.layers.dense({ units: outputs }),
      ],
    });
  const G = mlp(2, 2);
  const D = mlp(2, 1);
  const dOpt = tf.train.adam(1e-3, 0.5);
  const gOpt = tf.train.adam(1e-3, 0.5);
  const real = tf.tensor2d(realData, [256, 2]);
  const z = tf.tensor2d(noiseData, [256, 2]);
  const ones = tf.ones([256, 1]);
  const zeros = tf.zeros([256, 1]);
  const dVars = D.trainableWeights.map((w) => w.val);
  const gVars = G.trainableWeights.map((w) => w.val);
  let dLoss = NaN;
  let gLoss = NaN;
  try {
    const dParts = [];
    const gParts = [];
    const r = await measure(() => {
      const t0 = performance.now();
      const dl = dOpt.minimize(() => {
        const fake = tf.tidy(() => G.apply(z));
        return tf.add(tf.losses.sigmoidCrossEntropy(ones, D.apply(real)), tf.losses.sigmoidCrossEntropy(zeros, D.apply(fake)));
      }, true, dVars);
      dLoss = dl.dataSync()[0];
      dl.dispose();
      const t1 = performance.now();
      const gl = gOpt.minimize(() => tf.losses.sigmoidCrossEntropy(ones, D.apply(G.apply(z))), true, gVars);
      gLoss = gl.dataSync()[0];
      gl.dispose();
      const t2 = performance.now();
      dParts.push(t1 - t0);
      gParts.push(t2 - t1);
      return t2 - t0;
    }, reps);
    return { ...r, d_update: summary(dParts.slice(reps[0])), g_update: summary(gParts.slice(reps[0])), d_loss: dLoss, g_loss: gLoss, backend: tf.getBackend() };
  } finally {
    for (const t of [real, z, ones, zeros]) t.dispose();
    G.dispose();
    D.dispose();
    dOpt.dispose();
    gOpt.dispose();
  }
}

// ---------------------------------------------------------------- Sequences lab

// The lab's defaults: first-symbol task, length 40, batch 32, hidden 32,
// Adam 0.01, clipping at a global gradient norm of 1. One batch, made once
// by DeepPlay's seeded generator; every library trains on the same arrays.
const SEQ = { length: 40, batch: 32, hidden: 32, seed: 7, lr: 0.01, clip: 1 };
const SEQ_TFJS_REPS = smoke ? [1, 1] : [3, 15];
results.sequences = {
  settings: {
    ...SEQ,
    task: 'first symbol: one of 4 symbols at step 1, random distractors (4 other symbols) after it, a query marker at the last step; one-hot, 9 features; the answer is the first symbol (4 classes)',
    model: 'one recurrent layer of 32 units over 40 steps, a linear read-out of the last hidden state to 4 classes, cross-entropy; Adam 0.01; gradient clipping at a global norm of 1; batch 32, the same batch every step',
    reps_deepplay: R.dp,
    reps_tfjs: SEQ_TFJS_REPS,
  },
  deepplay: {},
  deepplay_nosimd: {},
  tfjs_cpu: {},
  tfjs_wasm: {},
};
const seqData = (() => {
  const b = new dp.RecurrentBench('gru', SEQ.length, SEQ.batch, SEQ.hidden, SEQ.seed);
  const d = { x: b.inputs_batch_major(), y: b.labels_u32(), features: b.features(), classes: b.classes() };
  b.free();
  return d;
})();

log('Sequences lab training steps: DeepPlay');
for (const [key, mod] of [
  ['deepplay', dp],
  ['deepplay_nosimd', dpNoSimd],
]) {
  for (const cell of key === 'deepplay' ? ['rnn', 'gru', 'lstm'] : ['gru']) {
    results.sequences[key][cell] = await attempt(`${key} ${cell}`, async () => {
      const b = new mod.RecurrentBench(cell, SEQ.length, SEQ.batch, SEQ.hidden, SEQ.seed);
      const r = await measure(() => b.train_step(), R.dp);
      const out = { params: b.num_params(), ...r, loss_after: b.last_loss() };
      b.free();
      return out;
    });
  }
}
if (results.sequences.deepplay.gru.error) throw new Error(`DeepPlay GRU step failed: ${results.sequences.deepplay.gru.error}`);

log('GRU step breakdown: DeepPlay');
{
  const b = new dp.RecurrentBench('gru', SEQ.length, SEQ.batch, SEQ.hidden, SEQ.seed);
  const names = dp.RecurrentBench.breakdown_names();
  const runs = [];
  for (let i = 0; i < R.dp[0] + R.dp[1]; i++) runs.push(b.breakdown());
  b.free();
  const timed = runs.slice(R.dp[0]);
  const parts = names.map((name, j) => ({ name, ...summary(timed.map((t) => t[j])) }));
  const sumOfParts = parts.reduce((a, p) => a + p.median, 0);
  const whole = results.sequences.deepplay.gru.median;
  results.sequences.breakdown = {
    parts,
    sum_of_parts: sumOfParts,
    median_of_per_run_sums: summary(timed.map((t) => t.reduce((a, v) => a + v, 0))).median,
    whole_step: whole,
    overhead: whole - sumOfParts,
    note: gruBreakdownNote(),
  };
}

// TensorFlow.js: the same model in Keras's layers (batch-major [N, T, 9]),
// softmax read-out, categorical cross-entropy, Adam 0.01; TF.js's optimizers
// have no clipping option, so the step clips the gradients' global norm by hand
// (computeGradients, scale, applyGradients), as DeepPlay does.
async function tfRecurrentTrain(backend, cell, reps) {
  await tf.setBackend(backend);
  await tf.ready();
  const model = tf.sequential({
    layers: [
      tf.layers[cell]({ units: SEQ.hidden, inputShape: [SEQ.length, seqData.features], returnSequences: false }),
      tf.layers.dense({ units: seqData.classes, activation: 'softmax' }),
    ],
  });
  const opt = tf.train.adam(SEQ.lr);
  const vars = model.trainableWeights.map((w) => w.val);
  const xs = tf.tensor3d(seqData.x, [SEQ.batch, SEQ.length, seqData.features]);
  const ys = tf.oneHot(tf.tensor1d(Array.from(seqData.y), 'int32'), seqData.classes);
  let loss = NaN;
  try {
    const r = await measure(
      timeit(() =>
        tf.tidy(() => {
          const { value, grads } = opt.computeGradients(
            () => tf.metrics.categoricalCrossentropy(ys, model.apply(xs, { training: true })).mean(),
            vars
          );
          const keys = Object.keys(grads);
          const norm = tf.sqrt(tf.addN(keys.map((k) => tf.sum(tf.square(grads[k])))));
          const scale = tf.minimum(1, tf.div(SEQ.clip, tf.add(norm, 1e-6)));
          opt.applyGradients(Object.fromEntries(keys.map((k) => [k, tf.mul(grads[k], scale)])));
          loss = value.dataSync()[0];
        })
      ),
      reps
    );
    return { params: model.countParams(), ...r, loss_after: loss, backend: tf.getBackend() };
  } finally {
    xs.dispose();
    ys.dispose();
    model.dispose();
    opt.dispose();
  }
}

for (const backend of ['cpu', 'wasm']) {
  for (const cell of ['gru', 'lstm']) {
    log(`Sequences lab training step: TF.js ${backend} ${cell}`);
    results.sequences[`tfjs_${backend}`][cell] = await attempt(`tfjs ${backend} ${cell}`, () => tfRecurrentTrain(backend, cell, SEQ_TFJS_REPS));
  }
}

results.machine.loadavg_at_end = os.loadavg();
results.seconds = (Date.now() - started) / 1000;

// ---------------------------------------------------------------- report

/**
 * A step cut into parts, as a table: each part's forward and backward time,
 * its share of the whole step and what its GEMMs take at the measured rates
 * (`gemmOf(part, phase)` gives { mflop, ms }); then the parts that are not
 * graph ops, the sums, the overhead and the whole step (`stepName`). Both
 * breakdowns (GRU, Transformer) are written by it. Returns every part with
 * its total.
 */
function breakdownTable(L, b, whole, gemmOf, stepName) {
  const share = (ms) => `${((100 * ms) / whole).toFixed(1)}%`;
  const byName = Object.fromEntries(b.parts.map((p) => [p.name, p]));
  const kinds = b.parts.filter((p) => p.name.startsWith('forward: ')).map((p) => p.name.slice('forward: '.length));
  const others = b.parts.filter((p) => !p.name.startsWith('forward: ') && !p.name.startsWith('backward: '));
  L.push('| part | forward, ms | backward, ms | total, ms | share of step | GEMM MFLOP | GEMM alone, ms |');
  L.push('|---|---|---|---|---|---|---|');
  const rows = [];
  for (const k of kinds) {
    const f = byName[`forward: ${k}`].median;
    const bw = byName[`backward: ${k}`].median;
    const gf = gemmOf(k, 'forward');
    const gb = gemmOf(k, 'backward');
    const mflop = gf.mflop + gb.mflop;
    const gms = gf.ms + gb.ms;
    rows.push({ name: k, total: f + bw });
    L.push(`| ${k} | ${fmt(f, 3)} | ${fmt(bw, 3)} | ${fmt(f + bw, 3)} | ${share(f + bw)} | ${mflop ? mflop.toFixed(2) : ''} | ${mflop ? `${gms.toFixed(3)} (${((100 * gms) / (f + bw)).toFixed(0)}% of the part)` : ''} |`);
  }
  for (const p of others) {
    rows.push({ name: p.name, total: p.median });
    L.push(`| ${p.name} | | | ${fmt(p.median, 3)} | ${share(p.median)} | | |`);
  }
  const fwdSum = kinds.reduce((a, k) => a + byName[`forward: ${k}`].median, 0);
  const bwdSum = kinds.reduce((a, k) => a + byName[`backward: ${k}`].median, 0);
  L.push(`| all graph ops | ${fmt(fwdSum, 3)} | ${fmt(bwdSum, 3)} | ${fmt(fwdSum + bwdSum, 3)} | ${share(fwdSum + bwdSum)} | | |`);
  L.push(`| sum of the parts (their medians) | | | ${fmt(b.sum_of_parts, 3)} | ${share(b.sum_of_parts)} | | |`);
  L.push(`| overhead (whole step − parts) | | | ${fmt(b.overhead, 3)} | ${share(b.overhead)} | | |`);
  L.push(`| **whole \`${stepName}\`** | | | **${fmt(whole, 3)}** | 100% | | |`);
  return rows;
}

/** How the GRU step is cut (kept here so --readme-only rewrites it too). */
function gruBreakdownNote() {
  return (
    'the same graph ops as `Graph::gru` and `RecurrentNet::train_step`, on a copy of the weights, run one at a time: each forward op call timed; ' +
    'for the backward, an identity node after each op records when the backward pass reaches it, so the time between two of them is the backward of one op ' +
    '(with adding its gradients into its inputs\'); overhead = the whole `train_step` minus the sum of the parts (about 3,000 timer calls and the markers\' copies lengthen the parts, so it can be negative)');
}

/** The Sequences lab's tables: the step beside TF.js, the GRU step by op
 * kind, its GEMMs and their share of the peak, and the k = 9 measurement. */
function sequencesSection(r, L) {
  const sq = r.sequences;
  const st = sq.settings;
  const pk = r.peak.simd128.gflops;
  L.push(`## Sequences lab training step (first-symbol task, length ${st.length}, batch ${st.batch}, hidden ${st.hidden}), ms`);
  L.push('');
  L.push(`Task: ${st.task}. Model: ${st.model}.`);
  L.push('DeepPlay runs the core\'s own `RecurrentNet::train_step` (what the lab\'s worker runs, including ||dL/dh_t|| at every step, which the lab plots).');
  L.push('TF.js: `tf.layers.gru` / `tf.layers.lstm` (units 32, inputShape [40, 9], returnSequences false) + `dense(4, softmax)`, categorical cross-entropy, `tf.train.adam(0.01)`;');
  L.push('TF.js\'s optimizers cannot clip, so its step clips the global norm at 1 by hand (`computeGradients`, scale, `applyGradients`).');
  L.push('Keras\'s GRU applies the reset gate before the recurrent product and has one bias vector (PyTorch\'s, DeepPlay\'s: after it, two), hence the parameter counts.');
  L.push(`DeepPlay: ${st.reps_deepplay[1]} timed steps after ${st.reps_deepplay[0]}; TF.js: ${st.reps_tfjs[1]} after ${st.reps_tfjs[0]}.`);
  L.push('');
  L.push('| model | params (DeepPlay / TF.js) | **DeepPlay** (wasm, simd128) | DeepPlay without simd128 | TF.js `cpu` | TF.js `wasm` |');
  L.push('|---|---|---|---|---|---|');
  const ratio = (peer, own) => (peer && !peer.error && own && !own.error ? ` = ${(peer.median / own.median).toFixed(1)}x DeepPlay` : '');
  for (const [label, c] of [
    ['tanh RNN (for reference)', 'rnn'],
    ['GRU', 'gru'],
    ['LSTM', 'lstm'],
  ]) {
    const own = sq.deepplay[c];
    const tfParams = [sq.tfjs_cpu[c], sq.tfjs_wasm[c]].find((x) => x && !x.error)?.params;
    const peer = (x) => (x === undefined ? '–' : `${cell(x)}${ratio(x, own)}`);
    L.push(`| ${label} | ${own && !own.error ? own.params : '–'} / ${tfParams ?? '–'} | ${cell(own)} | ${sq.deepplay_nosimd[c] ? cell(sq.deepplay_nosimd[c]) : '–'} | ${peer(sq.tfjs_cpu[c])} | ${peer(sq.tfjs_wasm[c])} |`);
  }
  L.push('');
  const losses = ['gru', 'lstm'].map((c) => `${c.toUpperCase()} DeepPlay ${fmt(sq.deepplay[c]?.loss_after, 3)}, TF.js cpu ${fmt(sq.tfjs_cpu[c]?.loss_after, 3)}, wasm ${fmt(sq.tfjs_wasm[c]?.loss_after, 3)}`);
  L.push(`Loss after the last timed step (each library from its own initial weights, the same batch every step): ${losses.join('; ')}.`);
  L.push('');

  // The GRU step by op kind.
  const b = sq.breakdown;
  const whole = b.whole_step;
  const gemmRows = r.gemm.filter((g) => g.gru_step);
  const rate = (g) => (g.deepplay_kernel || g.ndarray_simd).median; // GFLOP/s
  const gemmOf = (kind, phase) => {
    let mflop = 0;
    let ms = 0;
    for (const g of gemmRows.filter((x) => x.gru_step.part === kind)) {
      const calls = phase === 'forward' ? g.gru_step.forward_calls : g.gru_step.backward_calls;
      const flops = 2 * g.m * g.k * g.n * calls;
      mflop += flops / 1e6;
      ms += flops / (rate(g) * 1e6);
    }
    return { mflop, ms };
  };
  const byName = Object.fromEntries(b.parts.map((p) => [p.name, p]));
  L.push('## Where the GRU step goes');
  L.push('');
  L.push(`The core has no profiler; the step is cut by op kind: ${gruBreakdownNote()}.`);
  L.push('"GEMM alone" is what the kind\'s matrix products would take at the rates this run measured for their shapes (next table).');
  L.push('');
  const rows = breakdownTable(L, b, whole, gemmOf, 'RecurrentNet::train_step');
  L.push('');
  const top = [...rows].sort((a, c) => c.total - a.total).slice(0, 3);
  L.push(`Largest parts: ${top.map((p) => `${p.name} (${fmt(p.total, 2)} ms, ${((100 * p.total) / whole).toFixed(0)}%)`).join(', ')}.`);
  L.push('');

  // The GEMMs of one step.
  L.push('### The GRU step\'s GEMMs (DeepPlay kernel, rates from the GEMM table above)');
  L.push('');
  L.push('| GEMM (M x K x N) | calls per step | MFLOP per step | GFLOP/s | % of peak | ms per step at that rate |');
  L.push('|---|---|---|---|---|---|');
  let totalMflop = 0;
  let totalMs = 0;
  let totalAtPeak = 0;
  for (const g of gemmRows) {
    const calls = g.gru_step.forward_calls + g.gru_step.backward_calls;
    const flops = 2 * g.m * g.k * g.n * calls;
    const ms = flops / (rate(g) * 1e6);
    g.gru_step.ms_per_step = ms;
    totalMflop += flops / 1e6;
    totalMs += ms;
    totalAtPeak += flops / (pk * 1e6);
    L.push(`| ${g.name} (${g.m}x${g.k}x${g.n}) | ${calls} | ${(flops / 1e6).toFixed(2)} | ${fmt(rate(g), 1)} | ${g.kernel_pct_of_peak.toFixed(0)}% | ${ms.toFixed(3)} |`);
  }
  L.push(`| **all** | | **${totalMflop.toFixed(1)}** | ${(totalMflop / totalMs).toFixed(1)} | ${((100 * totalMflop) / totalMs / pk).toFixed(0)}% | **${totalMs.toFixed(3)}** (${((100 * totalMs) / whole).toFixed(1)}% of the step) |`);
  L.push('');
  L.push(`At the measured peak (${pk.toFixed(1)} GFLOP/s) every GEMM of the step would take ${totalAtPeak.toFixed(3)} ms: the step\'s ${fmt(whole, 2)} ms is not in its matrix products.`);
  L.push('');

  // The input projection's inner size of 9: the measured reason.
  const proj = gemmRows.find((g) => g.name.startsWith('GRU input projection'));
  const sweep = [proj, ...r.gemm.filter((g) => g.k_sweep)].filter(Boolean).sort((a, c) => a.k - c.k);
  if (proj && sweep.length >= 2) {
    // Time per MR x NR = 4 x 8 register tile, t = a + b k, through the
    // shape itself and the longest k of the sweep (the points between are
    // in the table; a line through all of them would bend to any one of them).
    const tiles = Math.ceil(proj.m / 4) * Math.ceil(proj.n / 8);
    const tileNs = (g) => ((2 * g.m * g.k * g.n) / (rate(g) * 1e9) / tiles) * 1e9;
    const far = sweep[sweep.length - 1];
    const slope = (tileNs(far) - tileNs(proj)) / (far.k - proj.k);
    const fixed = tileNs(proj) - slope * proj.k;
    const at = fixed / tileNs(proj);
    const perK = 64 / slope; // 4 x 8 outputs x 2 flops per k-step, per ns = GFLOP/s
    const monotonic = sweep.every((g, i) => i === 0 || rate(g) >= rate(sweep[i - 1]));
    const projMs = proj.gru_step.ms_per_step;
    const projAtPeak = (2 * proj.m * proj.k * proj.n) / (pk * 1e6);
    const projStep = byName[`forward: ${proj.gru_step.part}`].median;
    sq.k9 = {
      tile_ns: Object.fromEntries(sweep.map((g) => [g.k, tileNs(g)])),
      tile_fixed_ns: fixed,
      tile_ns_per_k: slope,
      fixed_share_at_k: at,
      k_loop_gflops: perK,
    };
    L.push(`**The input projection\'s inner size of ${proj.k}.** x[${proj.m}x${proj.k}] · W_ih^T[${proj.k}x${proj.n}] runs at ${fmt(rate(proj), 1)} GFLOP/s, ${proj.kernel_pct_of_peak.toFixed(0)}% of the measured peak; ` +
      `the same layout at k = ${sweep.filter((g) => g !== proj).map((g) => `${g.k}: ${g.kernel_pct_of_peak.toFixed(0)}%`).join(', ')}${monotonic ? '' : ' (not rising steadily with k in this run: the rows were measured one after the other, each with its own disturbances)'}. ` +
      `Measured reason: the packed kernel computes C in 4x8 register tiles (8 f32x4 accumulators); per tile it does k steps of 2 B loads, 4 A broadcasts, 8 multiplies and 8 adds, then a fixed amount of work: zeroing the accumulators, storing the 8 vectors of C (loading them too when the op adds onto the bias), the loop and packing setup. ` +
      `A tile took ${tileNs(proj).toFixed(1)} ns at k = ${proj.k} and ${tileNs(far).toFixed(1)} ns at k = ${far.k}: ${(far.k / proj.k).toFixed(1)}x the multiply-adds for ${(tileNs(far) / tileNs(proj)).toFixed(1)}x the time. ` +
      `A line through the two gives a = ${fixed.toFixed(1)} ns fixed per tile and b = ${slope.toFixed(2)} ns per k-step (the k loop alone at ${perK.toFixed(1)} GFLOP/s; the peak loop: ${pk.toFixed(1)}); ` +
      `so at k = ${proj.k}, ${(100 * at).toFixed(0)}% of a tile\'s time is that fixed part, not multiply-adds (at k = ${far.k}: ${((100 * fixed) / tileNs(far)).toFixed(0)}%). ` +
      `Most of that work is per vector of C (zero it, store it, load it to add the bias), the same for any tile shape; a bigger tile would spread only the per-tile bookkeeping, and 5x8 and 3x12 tiles spill (measured at half the speed, \`kernels/simd128.rs\`). Only a longer k amortises it. ` +
      `It also does not matter to this step: the projection takes ${projMs.toFixed(3)} ms at the measured rate (forward and dW_ih; the forward op measured ${fmt(projStep, 3)} ms with its bias and allocation), ` +
      `${((100 * projMs) / whole).toFixed(1)}% of the ${fmt(whole, 2)} ms step, and at 100% of peak the forward product would still take ${projAtPeak.toFixed(3)} ms. So no kernel for k = ${proj.k}.`);
    L.push('');
  }
}

/** How the Transformer step is cut (kept here so --readme-only rewrites it too). */
function attentionBreakdownNote() {
  return (
    'the same graph ops as `Transformer::train_step` (with `MultiHeadAttention`\'s inside it), in the same order, on a copy of the weights, run one at a time: each forward op call timed; ' +
    'for the backward, an identity node after each op records when the backward pass reaches it, so the time between two of them is the backward of one op ' +
    '(with adding its gradients into its inputs\'); overhead = the whole `train_step` minus the sum of the parts (about 500 timer calls and the markers\' copies lengthen the parts, so it can be negative)'
  );
}

/** The Diffusion lab's step, its phases and its sampling. */
function diffusionSection(r, L) {
  const d = r.diffusion;
  L.push('## Diffusion lab training step and sampling');
  L.push('');
  if (!d || d.error || !d.deepplay) {
    L.push(`Not measured in this run${d?.error ? `: \`${d.error}\`` : ''}.`);
    L.push('');
    return;
  }
  const st = d.settings;
  const whole = d.deepplay.median;
  if (d.measured) {
    const m = d.measured.machine;
    L.push(`Measured in a later run than the sections above (${d.measured.when}), load average ${m.loadavg_at_start.map((x) => x.toFixed(2)).join(' / ')} at its start: the machine was shared with a build, so these times are on the high side.`);
    L.push('');
  }
  L.push(`Data: ${st.data}; model: ${st.model}; ${d.deepplay.params} parameters; T = ${st.steps_T}, batch ${st.batch}. ` +
    `DeepPlay runs the core's own \`PointDenoiser::train_step\`, what the lab's worker runs. ${st.reps[1]} repetitions after ${st.reps[0]}, each a whole step then the replica's step in phases.`);
  L.push('');
  L.push('| | ms |');
  L.push('|---|---|');
  L.push(`| **training step** (loss ${fmt(d.deepplay.loss_first, 3)} → ${fmt(d.deepplay.loss_after, 3)}) | ${cell(d.deepplay, 3)} |`);
  L.push(`| draw 64 samples through all ${st.steps_T} steps (DDPM) | ${cell(d.sample_64, 2)} |`);
  L.push(`| draw 1000 samples (what the lab draws) | ${cell(d.sample_1000, 1)} |`);
  L.push('');
  L.push('The step in phases (a replica of the step with a timer around each part):');
  L.push('');
  L.push('| phase | ms | share of step |');
  L.push('|---|---|---|');
  let sum = 0;
  for (const p of d.phases) {
    sum += p.median;
    L.push(`| ${p.name} | ${fmt(p.median, 4)} | ${((100 * p.median) / whole).toFixed(1)}% |`);
  }
  L.push(`| sum of the phases | ${fmt(sum, 4)} | ${((100 * sum) / whole).toFixed(1)}% |`);
  L.push(`| **whole \`PointDenoiser::train_step\`** | **${fmt(whole, 4)}** | 100% |`);
  L.push('');
}

/** The GAN lab's step beside TensorFlow.js. */
function ganSection(r, L) {
  const g = r.gan;
  L.push('## GAN lab training step');
  L.push('');
  if (!g || g.error || !g.deepplay || g.deepplay.error) {
    L.push(`Not measured in this run${g?.error ? `: \`${g.error}\`` : ''}.`);
    L.push('');
    return;
  }
  const st = g.settings;
  if (g.measured) {
    const m = g.measured.machine;
    L.push(`Measured in a later run than the sections above (${g.measured.when}), load average ${m.loadavg_at_start.map((x) => x.toFixed(2)).join(' / ')} at its start.`);
    L.push('');
  }
  L.push(`Data: ${st.data}; model: ${st.model}; ${g.deepplay.params} parameters; batch ${st.batch}, ${st.noise_dim}-D noise. ` +
    'One step = one discriminator update, then one generator update (the lab\'s step with 1 D step per G step). ' +
    `DeepPlay runs the core's own \`Gan::discriminator_step\` and \`Gan::generator_step\`; TensorFlow.js the same networks with \`optimizer.minimize\` over each network's variables. ${st.reps[1]} repetitions after ${st.reps[0]}.`);
  L.push('');
  L.push('| | step, ms | D update | G update | losses after (D / G) |');
  L.push('|---|---|---|---|---|');
  const row = (name, x) => {
    if (!x || x.error) {
      L.push(`| ${name} | ${x?.error ? `failed: \`${x.error}\`` : '–'} | | | |`);
      return;
    }
    L.push(`| ${name} | ${cell(x, 3)} | ${fmt(x.d_update.median, 3)} | ${fmt(x.g_update.median, 3)} | ${fmt(x.d_loss, 3)} / ${fmt(x.g_loss, 3)} |`);
  };
  row('**DeepPlay** (wasm, simd128)', g.deepplay);
  row('DeepPlay without simd128', g.deepplay_nosimd);
  row('DeepPlay, Wasserstein loss + gradient penalty', g.deepplay_wgan);
  row('TensorFlow.js, wasm backend', g.tfjs_wasm);
  row('TensorFlow.js, cpu backend', g.tfjs_cpu);
  L.push('');
}

/** The Detection lab's step and its phases. */
function detectionSection(r, L) {
  const d = r.detection;
  L.push('## Detection lab training step');
  L.push('');
  if (!d || d.error || !d.deepplay || d.deepplay.error) {
    L.push(`Not measured in this run${d?.error ? `: \`${d.error}\`` : ''}.`);
    L.push('');
    return;
  }
  const st = d.settings;
  if (d.measured) {
    const m = d.measured.machine;
    L.push(`Measured in a later run than the sections above (${d.measured.when}), load average ${m.loadavg_at_start.map((x) => x.toFixed(2)).join(' / ')} at its start.`);
    L.push('');
  }
  L.push(`Data: ${st.data}; model: ${st.model}; ${d.deepplay.params} parameters. ` +
    `A step is the core's \`Detector::train_step\` with the batch's scenes drawn first, as the lab's worker runs it. No peer library runs this model; the phases say where the time goes. ${st.reps[1]} repetitions after ${st.reps[0]}.`);
  L.push('');
  L.push('| | step, ms | scenes | forward | loss | backward | update |');
  L.push('|---|---|---|---|---|---|---|');
  const row = (name, x) => {
    if (!x || x.error) {
      L.push(`| ${name} | ${x?.error ? `failed: \`${x.error}\`` : '–'} | | | | | |`);
      return;
    }
    const p = x.phases;
    L.push(`| ${name} | ${cell(x, 2)} | ${fmt(p.scenes.median, 2)} | ${fmt(p.forward.median, 2)} | ${fmt(p.loss.median, 3)} | ${fmt(p.backward.median, 2)} | ${fmt(p.update.median, 3)} |`);
  };
  row('**DeepPlay** (wasm, simd128)', d.deepplay);
  row('DeepPlay without simd128', d.deepplay_nosimd);
  L.push('');
}

/** The Attention lab's tables: the step, its phases, its parts, its GEMMs
 * and what limits the per-head products. */
function attentionSection(r, L) {
  const t = r.transformer;
  if (!t || !t.settings || !t.deepplay || t.deepplay.error || !t.breakdown) {
    L.push('## Attention lab training step');
    L.push('');
    L.push(`Not measured in this run${t?.deepplay?.error ? `: \`${t.deepplay.error}\`` : ''}.`);
    L.push('');
    return;
  }
  const st = t.settings;
  const pk = r.peak.simd128.gflops;
  const whole = t.deepplay.median;
  const share = (ms) => `${((100 * ms) / whole).toFixed(1)}%`;
  L.push(`## Attention lab training step (the lab's defaults: who-did-what, d_model ${st.d_model}, ${st.heads} heads, ${st.layers} layers, batch ${st.batch}), ms`);
  L.push('');
  L.push(`Task: ${st.task}. Model: ${st.model}; ${t.deepplay.params} parameters.`);
  L.push('DeepPlay runs the core\'s own `Transformer::train_step`, what the lab\'s worker runs: forward, cross-entropy, backward, the batch\'s accuracy, clipping, Adam.');
  L.push(`${st.reps[1]} repetitions after ${st.reps[0]}, each a whole step, then the replica\'s step in phases, then its step op by op (the three in turn, so all see the same load); one step before them gives the first loss.` +
    (t.deepplay_nosimd?.reps ? ` Without simd128: ${t.deepplay_nosimd.reps[1]} steps after ${t.deepplay_nosimd.reps[0]}.` : ''));
  L.push('');
  L.push('| | ms per step | loss: first step → last (steps on the same batch) |');
  L.push('|---|---|---|');
  const lossCell = (x) => (x && !x.error ? `${fmt(x.loss_first, 3)} → ${fmt(x.loss_after, 3)}${x.steps ? ` (${x.steps})` : ''}` : '–');
  L.push(`| **DeepPlay** (wasm, simd128) | ${cell(t.deepplay, 3)} | ${lossCell(t.deepplay)} |`);
  L.push(`| DeepPlay without simd128 | ${cell(t.deepplay_nosimd, 3)} | ${lossCell(t.deepplay_nosimd)} |`);
  L.push('');

  L.push('### Where the Attention lab\'s step goes');
  L.push('');
  L.push('The core has no profiler. The step is rebuilt from the same graph ops on a copy of the weights (a replica with its own Adam and tape), run two ways:');
  L.push('with four timers only (the phases: nothing else added to the step), and op by op: ' + attentionBreakdownNote() + '.');
  L.push('');
  L.push('| phase | ms | share of step |');
  L.push('|---|---|---|');
  for (const p of t.phases.parts) L.push(`| ${p.name} | ${fmt(p.median, 3)} | ${share(p.median)} |`);
  L.push(`| sum of the phases (their medians) | ${fmt(t.phases.sum_of_parts, 3)} | ${share(t.phases.sum_of_parts)} |`);
  L.push(`| **whole \`Transformer::train_step\`** | **${fmt(whole, 3)}** | 100% |`);
  L.push('');

  // By part, with the GEMM time at the rates measured above.
  const b = t.breakdown;
  const byName = Object.fromEntries(b.parts.map((p) => [p.name, p]));
  const kinds = b.parts.filter((p) => p.name.startsWith('forward: ')).map((p) => p.name.slice('forward: '.length));
  const others = b.parts.filter((p) => !p.name.startsWith('forward: ') && !p.name.startsWith('backward: '));
  const rate = (g) => (g.deepplay_kernel || g.ndarray_simd).median; // GFLOP/s
  const gemmRows = r.gemm.filter((g) => g.attention_step);
  // Which part each GEMM row's `attention_step` entry belongs to (a prefix of its name).
  const ATTENTION_GEMM_PARTS = {
    qkv: 'Q, K, V projections',
    scores: 'scores Q K^T',
    context: 'context A V',
    out: 'out-projection',
    mlp: 'MLP linears',
    readout: 'read-out',
  };
  const kindOf = (key) => kinds.find((k) => k.startsWith(ATTENTION_GEMM_PARTS[key]));
  const gemmOf = (kind, phase) => {
    let mflop = 0;
    let ms = 0;
    for (const g of gemmRows) {
      for (const e of g.attention_step.filter((x) => kindOf(x.part) === kind)) {
        const calls = phase === 'forward' ? e.forward_calls : e.backward_calls;
        const flops = 2 * g.m * g.k * g.n * g.batch * calls;
        mflop += flops / 1e6;
        ms += flops / (rate(g) * 1e6);
      }
    }
    return { mflop, ms };
  };
  const total = (k) => byName[`forward: ${k}`].median + byName[`backward: ${k}`].median;
  L.push('By part ("GEMM alone": what the part\'s matrix products take at the rates this run measured for their shapes, next tables):');
  L.push('');
  breakdownTable(L, b, whole, gemmOf, 'Transformer::train_step');
  L.push('');

  // The same parts grouped as the speed issue names them.
  const group = (prefixes) => kinds.filter((k) => prefixes.some((p) => k.startsWith(p)));
  const otherMs = (prefixes) => others.filter((p) => prefixes.some((x) => p.name.startsWith(x))).reduce((a, p) => a + p.median, 0);
  const GROUPS = [
    ['embedding + positions', ['embedding']],
    ['attention projections (in_proj cut up, Q/K/V and out-projection linears)', ['attention weights', 'Q, K, V', 'out-projection']],
    ['per-head attention: split, Q K^T, scale, softmax, A V, merge', ['split heads', 'scores', 'scale', 'softmax', 'context', 'merge heads']],
    ['of which the batched per-head matmuls (Q K^T, A V)', ['scores', 'context']],
    ['of which softmax', ['softmax']],
    ['of which splitting and merging heads (reshape, permute)', ['split heads', 'merge heads']],
    ['layer norms', ['layer norms']],
    ['MLP (linears, ReLU)', ['MLP linears', 'ReLU']],
    ['residual adds', ['residual']],
    ['read-out and loss', ['read-out', 'cross-entropy']],
  ];
  L.push('Grouped as the speed issue names the parts:');
  L.push('');
  L.push('| group | forward, ms | backward, ms | total, ms | share of step |');
  L.push('|---|---|---|---|---|');
  t.groups = {};
  for (const [label, prefixes] of GROUPS) {
    const ks = group(prefixes);
    const f = ks.reduce((a, k) => a + byName[`forward: ${k}`].median, 0);
    const bw = ks.reduce((a, k) => a + byName[`backward: ${k}`].median, 0);
    t.groups[label] = { forward: f, backward: bw, total: f + bw };
    const name = label.startsWith('of which') ? `&nbsp;&nbsp;${label}` : label;
    L.push(`| ${name} | ${fmt(f, 3)} | ${fmt(bw, 3)} | ${fmt(f + bw, 3)} | ${share(f + bw)} |`);
  }
  const upd = otherMs(['gather', 'clip', 'Adam']);
  const rest = otherMs(['tape reset', 'backward pass setup', "the batch's accuracy"]);
  t.groups['optimizer update (gather gradients, clip, Adam)'] = { total: upd };
  L.push(`| optimizer update (gather gradients, clip, Adam) | | | ${fmt(upd, 3)} | ${share(upd)} |`);
  L.push(`| tape reset, backward setup, accuracy | | | ${fmt(rest, 3)} | ${share(rest)} |`);
  L.push('');
  const top = kinds.map((k) => ({ name: k, total: total(k) })).concat(others.map((p) => ({ name: p.name, total: p.median })));
  top.sort((a, c) => c.total - a.total);
  L.push(`Largest parts: ${top.slice(0, 4).map((p) => `${p.name} (${fmt(p.total, 2)} ms, ${share(p.total)})`).join(', ')}.`);
  L.push('');

  // The GEMMs of one step.
  L.push('### The Attention lab step\'s GEMMs (DeepPlay kernel, rates from the GEMM table above)');
  L.push('');
  L.push('| GEMM (M x K x N) | products per step | MFLOP per step | GFLOP/s | % of peak | ms per step at that rate |');
  L.push('|---|---|---|---|---|---|');
  let totalMflop = 0;
  let totalMs = 0;
  let totalAtPeak = 0;
  let headMs = 0;
  let headAtPeak = 0;
  for (const g of gemmRows) {
    const calls = g.attention_step.reduce((a, e) => a + e.forward_calls + e.backward_calls, 0);
    const products = calls * g.batch;
    const flops = 2 * g.m * g.k * g.n * products;
    const ms = flops / (rate(g) * 1e6);
    g.ms_per_attention_step = ms;
    totalMflop += flops / 1e6;
    totalMs += ms;
    totalAtPeak += flops / (pk * 1e6);
    if (g.batch > 1) {
      headMs += ms;
      headAtPeak += flops / (pk * 1e6);
    }
    L.push(`| ${g.name} (${g.m}x${g.k}x${g.n}) | ${calls}${g.batch > 1 ? ` x ${g.batch}` : ''} | ${(flops / 1e6).toFixed(2)} | ${fmt(rate(g), 1)} | ${g.kernel_pct_of_peak.toFixed(0)}% | ${ms.toFixed(3)} |`);
  }
  L.push(`| **all** | | **${totalMflop.toFixed(1)}** | ${(totalMflop / totalMs).toFixed(1)} | ${((100 * totalMflop) / totalMs / pk).toFixed(0)}% | **${totalMs.toFixed(3)}** (${share(totalMs)} of the step) |`);
  L.push('');
  L.push(`At the measured peak (${pk.toFixed(1)} GFLOP/s) every GEMM of the step would take ${totalAtPeak.toFixed(3)} ms, the per-head products ${headAtPeak.toFixed(3)} ms of it (at their measured rates: ${headMs.toFixed(3)} ms, ${share(headMs)} of the step).`);
  L.push('');

  // What limits the per-head products.
  const heads = gemmRows.filter((g) => g.batch > 1);
  const probe = Object.fromEntries(r.gemm.filter((g) => g.probe).map((g) => [g.probe, g]));
  const nsPer = (g) => (2 * g.m * g.k * g.n) / rate(g); // ns per product, median
  // The probes' small differences drown in a disturbed repetition: they
  // compare the best ones (the least disturbed, as the peak is the best run).
  const nsBest = (g) => (2 * g.m * g.k * g.n) / g.deepplay_kernel.max;
  // The kernel's 4 x 8 register tiles (it computes C^T instead when that pads less).
  const padded = (rows, cols) => Math.ceil(rows / 4) * 4 * Math.ceil(cols / 8) * 8;
  const tiled = (g) => Math.min(padded(g.m, g.n), padded(g.n, g.m)) * g.k; // multiply-adds in whole tiles
  const atPeakNs = (macs) => (2 * macs) / pk;
  if (heads.length && probe['one tile'] && probe['whole, in place'] && probe['whole, packed'] && probe['edge, in place']) {
    L.push('**The per-head products and the 70% target.** ' + heads.map((g) => {
      const useful = g.m * g.k * g.n;
      return `${g.name.replace(/^Attention lab: /, '')}: ${fmt(rate(g), 1)} GFLOP/s, ${g.kernel_pct_of_peak.toFixed(0)}% of peak, ${nsPer(g).toFixed(0)} ns per product ` +
        `(${useful} multiply-adds; in the kernel\'s 4x8 register tiles ${tiled(g)}, so at most ${((100 * useful) / tiled(g)).toFixed(0)}% of peak even with nothing else to do; those tiles alone take ${atPeakNs(tiled(g)).toFixed(0)} ns at peak)`;
    }).join('; ') + '.');
    L.push('');
    const one = probe['one tile'];
    const oneFixed = nsBest(one) - atPeakNs(tiled(one));
    const wholeIn = probe['whole, in place'];
    const wholePacked = probe['whole, packed'];
    const edge = probe['edge, in place'];
    const per70 = (g) => (2 * g.m * g.k * g.n) / (0.7 * pk);
    const signed = (x) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(0)}`;
    const scores = heads.find((g) => g.trans_b);
    L.push(`What limits them, measured with the probes (${one.batch} products per call, inner size ${one.k}; the best of ${one.deepplay_kernel.n} repetitions, the least disturbed): ` +
      `one whole 4x8 tile per product takes ${nsBest(one).toFixed(0)} ns, of which ${atPeakNs(tiled(one)).toFixed(0)} ns is its arithmetic at peak: about ${oneFixed.toFixed(0)} ns per product is not multiply-adds (the product\'s setup in the batch loop, the tile\'s checks, storing C); ` +
      `[${wholeIn.m}x${wholeIn.k}] · [${wholeIn.k}x${wholeIn.n}], whole tiles with B read in place, ${nsBest(wholeIn).toFixed(0)} ns; the same with B^T, which the kernel packs (transposing K into 8-column slivers, as Q K^T needs), ${nsBest(wholePacked).toFixed(0)} ns ` +
      `(${signed(nsBest(wholePacked) - nsBest(wholeIn))} ns of packing); and the scores\' ${edge.m} x ${edge.n} with B in place ${nsBest(edge).toFixed(0)} ns, ${signed(nsBest(edge) - nsBest(wholeIn))} ns against ${wholeIn.m} x ${wholeIn.n} for fewer multiply-adds` +
      (edge.n % 8 ? `: ${edge.n} columns are ${Math.floor(edge.n / 8)} whole 8-column sliver${edge.n >= 16 ? 's' : ''} and a ${edge.n % 8}-column one, which is packed and stored lane by lane. ` : '. ') +
      `For 70% of peak a ${heads[0].m * heads[0].k * heads[0].n}-multiply-add product must take at most ${per70(heads[0]).toFixed(0)} ns in all. ` +
      heads.filter((g, i) => heads.findIndex((x) => tiled(x) === tiled(g)) === i).map((g) => {
        const left = per70(g) - atPeakNs(tiled(g));
        const label = g.trans_b ? 'Q K^T' : 'A V and the gradients';
        return left <= 0
          ? `${label}: its tiles alone take ${atPeakNs(tiled(g)).toFixed(0)} ns at peak, more than that`
          : `${label}: the tiles take ${atPeakNs(tiled(g)).toFixed(0)} ns at peak, leaving ${left.toFixed(0)} ns for everything else, ${left < oneFixed ? 'less' : 'no less'} than the ${oneFixed.toFixed(0)} ns one tile\'s setup and store take`;
      }).join('; ') +
      (heads.every((g) => per70(g) - atPeakNs(tiled(g)) < oneFixed)
        ? '. With this kernel the target is out of reach at these sizes, even at its best. '
        : '. ') +
      `Reaching it needs a kernel for a batch of tiny products (four heads side by side in the f32x4 lanes, so that sizes such as ${heads[0].m} and ${heads[0].k} waste no lanes, with the interleaving of Q, K, V and the de-interleaving of C paid once per call), ` +
      `and the gain is bounded by the per-head products\' share of the step: ${headMs.toFixed(3)} ms at the measured rates, ${headAtPeak.toFixed(3)} ms at peak, of a ${fmt(whole, 2)} ms step.`);
    L.push('');
  }
}

function readme(r) {
  const L = [];
  const m = r.machine;
  L.push('# DeepPlay benchmark');
  L.push('');
  L.push('Generated by `bench/bench.mjs` (do not edit by hand: rerun). DeepPlay (Rust compiled to wasm32 with');
  L.push('`-C target-feature=+simd128`, plus the same crate built without simd128 for comparison) next to ConvNetJS,');
  L.push('TensorFlow.js and onnxruntime-web, all in one node process, one thread, on the same data. Figures are');
  L.push('medians of several repetitions after warm-up, with (min–max). Raw numbers: `results.json`.');
  L.push('');
  L.push(`**Machine:** ${m.cpu}, ${m.cores} cores, load average ${m.loadavg_at_start.map((x) => x.toFixed(2)).join(' / ')} at start and ${m.loadavg_at_end.map((x) => x.toFixed(2)).join(' / ')} at end (1/5/15 min), ${m.platform}, node ${m.node}; run ${r.when}${r.smoke ? ' (SMOKE RUN: too few repetitions to quote)' : ''}, ${r.seconds.toFixed(0)} s.`);
  L.push('');
  L.push(`Versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
  L.push('');
  L.push('Network (the CNN lab default): conv 8@5x5 pad 2, ReLU, max-pool 2, conv 16@5x5 pad 2, ReLU, max-pool 3, FC 10;');
  L.push(`${r.cnn_params} parameters; input 1x28x28; batch ${r.settings.batch}; one training step is about ${r.cnn_step_mflop.toFixed(0)} MFLOP.`);
  L.push(`Data: ${r.settings.data}.`);
  L.push('');

  const tr = r.train;
  const step = (k) => tr[k];
  L.push('## CNN training step (forward, loss, backward, optimizer update; batch 32)');
  L.push('');
  L.push('| library | ms per step | speed-up vs ConvNetJS | notes |');
  L.push('|---|---|---|---|');
  const tRow = (label, k, note) => {
    const x = step(k);
    L.push(`| ${label} | ${cell(x)} | ${x && x.speedup_vs_convnetjs ? `${x.speedup_vs_convnetjs.toFixed(1)}x` : '–'} | ${note} |`);
  };
  tRow('**DeepPlay** (wasm, simd128)', 'deepplay', `Adam; ${tr.deepplay.gflops.toFixed(1)} GFLOP/s end to end`);
  tRow('ConvNetJS 0.3.0', 'convnetjs', 'adadelta (no Adam in ConvNetJS); 32 `train` calls = one update; f64');
  tRow('TensorFlow.js `cpu` backend', 'tfjs_cpu', 'Adam; `optimizer.minimize`');
  tRow('TensorFlow.js `wasm` backend', 'tfjs_wasm', 'Adam; the wasm backend has no conv gradient kernels');
  L.push('');

  L.push('## Where a DeepPlay training step goes');
  L.push('');
  L.push(`Each op of one step timed on its own: ${r.breakdown.note}.`);
  L.push('');
  L.push('"GEMM alone" is what the op\'s matrix products would take at the rate this run measured for their per-sample shapes (table below), times 32 samples;');
  L.push('the rest of the op\'s time is im2col / col2im, bias, copies and allocation.');
  L.push('');
  L.push('| part | ms | share of step | GEMM MFLOP | GEMM alone, ms |');
  L.push('|---|---|---|---|---|');
  const whole = r.breakdown.whole_step;
  const gemmOf = (label) => r.gemm.find((g) => g.name.startsWith(label));
  const GEMM_PARTS = {
    'conv1 forward': ['conv1 fwd, per sample'],
    'conv1 backward': ['conv1 dW, per sample'],
    'conv2 forward': ['conv2 fwd, per sample'],
    'conv2 backward': ['conv2 dW, per sample', 'conv2 dcols, per sample'],
  };
  for (const p of r.breakdown.parts) {
    const gs = (GEMM_PARTS[p.name] || []).map(gemmOf).filter(Boolean);
    const mflop = gs.reduce((a, g) => a + (2 * g.m * g.k * g.n * r.settings.batch) / 1e6, 0);
    const ms = gs.reduce((a, g) => a + (2 * g.m * g.k * g.n * r.settings.batch) / ((g.deepplay_kernel || g.ndarray_simd).median * 1e6), 0);
    p.gemm_mflop = gs.length ? mflop : undefined;
    p.gemm_ms = gs.length ? ms : undefined;
    L.push(`| ${p.name} | ${fmt(p.median, 3)} | ${((100 * p.median) / whole).toFixed(1)}% | ${gs.length ? mflop.toFixed(1) : ''} | ${gs.length ? `${ms.toFixed(3)} (${((100 * ms) / p.median).toFixed(0)}% of the op)` : ''} |`);
  }
  L.push(`| sum of the parts (their medians) | ${fmt(r.breakdown.sum_of_parts, 3)} | ${((100 * r.breakdown.sum_of_parts) / whole).toFixed(1)}% | | |`);
  L.push(`| overhead (whole step − parts) | ${fmt(r.breakdown.overhead, 3)} | ${((100 * r.breakdown.overhead) / whole).toFixed(1)}% | | |`);
  L.push(`| **whole \`train_step\`** | **${fmt(whole, 3)}** | 100% | | |`);
  const top = [...r.breakdown.parts].sort((a, b) => b.median - a.median).slice(0, 3);
  L.push('');
  L.push(`Largest parts: ${top.map((p) => `${p.name} (${fmt(p.median, 2)} ms)`).join(', ')}.`);
  L.push('');

  L.push('## CNN inference (`predict_proba` / `predict` / `session.run`), ms');
  L.push('');
  L.push('| library | batch 1 | batch 256 |');
  L.push('|---|---|---|');
  const inf = r.inference;
  const iRow = (label, k) => L.push(`| ${label} | ${cell(inf.batch_1[k], 3)} | ${cell(inf.batch_256[k], 2)} |`);
  iRow('**DeepPlay** (wasm, simd128)', 'deepplay');
  iRow('DeepPlay without simd128', 'deepplay_nosimd');
  iRow('TensorFlow.js `wasm` (XNNPACK, SIMD)', 'tfjs_wasm');
  iRow('onnxruntime-web (wasm)', 'onnxruntime_web');
  iRow('ConvNetJS', 'convnetjs');
  L.push('');

  L.push('## GEMM, GFLOP/s (C = op(A) op(B), the shapes the labs use)');
  L.push('');
  const pk = r.peak.simd128;
  const ps = r.peak['scalar (no simd128 build)'];
  L.push(`Measured simd128 peak of this machine: **${pk.gflops.toFixed(1)} GFLOP/s**, the best of ${pk.by_accumulators[pk.accumulators].n} runs of ${pk.accumulators} independent f32x4 multiply+add chains ` +
    `(median, best by chain count: ${Object.entries(pk.by_accumulators).map(([a, s]) => `${a} chains ${s.median.toFixed(1)}, ${s.max.toFixed(1)}`).join('; ')}; a multiply and an add count as 2 flops per lane, plain simd128 has no FMA). ` +
    `The same loop without simd128: ${ps.gflops.toFixed(1)} GFLOP/s.`);
  L.push('');
  L.push('"DeepPlay kernel" is `deepplay_core::kernels::gemm`, what the core\'s ops call: its own packed simd128 micro-kernel where that wins, matrixmultiply elsewhere; ' +
    '"ndarray" is `general_mat_mul` (matrixmultiply) on the same operands; "DeepPlay op" is the core\'s `Graph::matmul` / `matmul_bt` (the GEMM plus the op\'s allocation; – where no op takes that layout). ' +
    'Rows "per call" time `kernels::gemm_batched`, which `Graph::matmul` calls for a batch of matrices (attention runs every head of every sequence in one call); their ndarray columns are the same products one call each. ' +
    'Rows marked † are products no op runs at the labs\' defaults, comparisons only, left out of the 70% target below: every "batch 32" conv layout (the conv op multiplies per sample), ' +
    'attention\'s heads one per call (the op runs all 128 in one), in_proj as one GEMM (the core narrows it into W_q, W_k, W_v and runs three), the probes, and the 16x16x16 heads (d 64, 4 heads over 16 tokens).');
  L.push('');
  L.push('| shape (M x K x N) | DeepPlay kernel, simd128 | % of peak | ndarray, simd128 | % of peak | kernel / ndarray | ndarray, no simd128 | ndarray simd speed-up | DeepPlay op, simd128 |');
  L.push('|---|---|---|---|---|---|---|---|---|');
  for (const g of r.gemm) {
    L.push(`| ${g.name} (${g.m}x${g.k}x${g.n})${g.used_by_an_op === false ? ' †' : ''} | ${fmt(g.deepplay_kernel.median, 1)} | ${g.kernel_pct_of_peak.toFixed(0)}% | ${fmt(g.ndarray_simd.median, 1)} | ${g.pct_of_peak.toFixed(0)}% | ${(g.deepplay_kernel.median / g.ndarray_simd.median).toFixed(2)}x | ${fmt(g.ndarray_nosimd.median, 1)} | ${(g.ndarray_simd.median / g.ndarray_nosimd.median).toFixed(1)}x | ${g.deepplay_op ? fmt(g.deepplay_op.median, 1) : '–'} |`);
  }
  L.push('');

  sequencesSection(r, L);

  attentionSection(r, L);
  diffusionSection(r, L);
  ganSection(r, L);
  detectionSection(r, L);

  L.push('## Against the targets of the speed issue');
  L.push('');
  const tgt = (ok, text) => L.push(`- ${ok ? 'met' : '**not yet**'}: ${text}`);
  const cj = tr.convnetjs && !tr.convnetjs.error ? tr.convnetjs.median : NaN;
  tgt(tr.deepplay.median * 20 <= cj, `CNN training step at most 1/20 of ConvNetJS's (${fmt(cj / 20)} ms here): ${fmt(tr.deepplay.median)} ms, ${fmt(cj / tr.deepplay.median, 1)}x faster (aim: 1/30, ${fmt(cj / 30)} ms)`);
  const b256 = inf.batch_256;
  const tfw = b256.tfjs_wasm && !b256.tfjs_wasm.error ? b256.tfjs_wasm.median : NaN;
  const ortw = b256.onnxruntime_web && !b256.onnxruntime_web.error ? b256.onnxruntime_web.median : NaN;
  tgt(b256.deepplay.median <= tfw && b256.deepplay.median < ortw, `inference batch 256 as fast as TF.js wasm (${fmt(tfw)} ms) and faster than onnxruntime-web (${fmt(ortw)} ms): ${fmt(b256.deepplay.median)} ms`);
  tgt(inf.batch_1.deepplay.median < 0.2, `inference batch 1 under 0.2 ms: ${fmt(inf.batch_1.deepplay.median, 3)} ms`);
  const used = r.gemm.filter((g) => g.used_by_an_op !== false);
  const at70 = used.filter((g) => g.kernel_pct_of_peak >= 70);
  const below = used.filter((g) => g.kernel_pct_of_peak < 70).map((g) => `${g.name} ${g.kernel_pct_of_peak.toFixed(0)}%`);
  tgt(at70.length === used.length, `GEMM (DeepPlay kernel) at least 70% of the measured simd128 peak at every shape an op runs: ${at70.length} of ${used.length} shapes (best ${Math.max(...used.map((g) => g.kernel_pct_of_peak)).toFixed(0)}%, worst ${Math.min(...used.map((g) => g.kernel_pct_of_peak)).toFixed(0)}%)${below.length ? `; below: ${below.join('; ')}` : ''}`);
  L.push('');

  L.push('## Rerun');
  L.push('');
  L.push('```sh');
  L.push('bash bench/run.sh           # or: make bench. Builds bench/pkg and bench/pkg-nosimd, runs npm ci if needed,');
  L.push('                            # then node bench/bench.mjs; rewrites bench/results.json and this file');
  L.push('bash bench/run.sh --smoke   # a few iterations, skips the CNN step on TF.js cpu; writes to a temporary file');
  L.push('node bench/bench.mjs --readme-only   # rewrites this file from results.json after a change to the report (measures nothing)');
  L.push('```');
  L.push('');
  L.push('Wasm timing: DeepPlay times itself inside wasm with `performance.now()`; peers are timed around their calls.');
  L.push('Everything is single-threaded (TF.js wasm `setThreadsCount(1)` and no multithread binary, onnxruntime-web `numThreads = 1`).');
  L.push('Other processes on the machine disturb the figures (on a shared 2-core machine, a concurrent build moves them by 30% or more,');
  L.push('peak included): compare numbers from one run, look at the load line above and at the min–max ranges.');
  L.push('');
  return L.join('\n');
}

const outJson = smoke ? path.join(os.tmpdir(), 'deepplay-bench-smoke.json') : path.join(here, 'results.json');
const outMd = smoke ? path.join(os.tmpdir(), 'deepplay-bench-smoke.md') : path.join(here, 'README.md');
const markdown = readme(results); // also adds each part's GEMM estimate to results.breakdown
fs.writeFileSync(outJson, JSON.stringify(results, null, 2) + '\n');
fs.writeFileSync(outMd, markdown);

const t = results.train;
console.log(
  `DeepPlay CNN step ${fmt(t.deepplay.median)} ms (${fmt(t.deepplay.gflops, 1)} GFLOP/s); ` +
    `ConvNetJS ${t.convnetjs.error ? 'failed' : fmt(t.convnetjs.median) + ' ms'}; ` +
    `TF.js cpu ${t.tfjs_cpu.error ? '–' : fmt(t.tfjs_cpu.median) + ' ms'}; TF.js wasm ${t.tfjs_wasm.error ? 'fails' : fmt(t.tfjs_wasm.median) + ' ms'}; ` +
    `inference b1/b256 ${fmt(results.inference.batch_1.deepplay.median, 3)}/${fmt(results.inference.batch_256.deepplay.median)} ms; ` +
    `Attention lab Transformer ${fmt(results.transformer.deepplay.median)} ms; peak ${fmt(PEAK, 1)} GFLOP/s`
);
const sq = results.sequences;
const seqCell = (x) => (!x ? '–' : x.error ? 'fails' : `${fmt(x.median)} ms`);
console.log(
  `Sequences lab (T ${SEQ.length}, N ${SEQ.batch}, H ${SEQ.hidden}): DeepPlay RNN ${seqCell(sq.deepplay.rnn)}, GRU ${seqCell(sq.deepplay.gru)}, LSTM ${seqCell(sq.deepplay.lstm)}; ` +
    `TF.js cpu GRU ${seqCell(sq.tfjs_cpu.gru)}, LSTM ${seqCell(sq.tfjs_cpu.lstm)}; TF.js wasm GRU ${seqCell(sq.tfjs_wasm.gru)}, LSTM ${seqCell(sq.tfjs_wasm.lstm)}`
);
console.log(`bench: wrote ${outJson} and ${outMd} in ${results.seconds.toFixed(1)} s`);
