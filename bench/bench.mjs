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
  ? { dp: [1, 2], peerFast: [1, 2], peerSlow: [1, 1], gemm: [1, 2], peak: [1, 2], gemmFlops: 2e6, peakIters: 2e6 }
  : { dp: [5, 40], peerFast: [10, 25], peerSlow: [1, 5], gemm: [3, 9], peak: [3, 9], gemmFlops: 4e7, peakIters: 2e7 };
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
  ['attention QKV, one sequence batch: x[32x64] · W[64x192]', 32, 64, 192],
  ['attention projection, batch 32 x seq 16: x[512x64] · W^T[64x64]', 512, 64, 64, false, true],
  ['transformer MLP: x[512x64] · W^T[64x128]', 512, 64, 128, false, true],
  ['attention scores, one head: Q[16x16] · K^T[16x16]', 16, 16, 16, false, true],
  ['attention context, one head: A[16x16] · V[16x16]', 16, 16, 16],
  ['attention scores, 128 heads per call (32 sequences x 4 heads): Q[16x16] · K^T[16x16]', 16, 16, 16, false, true, { batch: 128 }],
  ['attention context, 128 heads per call: A[16x16] · V[16x16]', 16, 16, 16, false, false, { batch: 128 }],
  ['GRU hidden step: h[32x64] · W_hh^T[64x192]', 32, 64, 192, false, true],
  ['GRU input, all 20 steps: x[640x8] · W_ih^T[8x192]', 640, 8, 192, false, true],
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

// ---------------------------------------------------------------- sequence models

log('GRU and Transformer training steps');
{
  const gru = new dp.GruBench(20, BATCH, 64, 8);
  results.gru = {
    config: 'GRU(8 -> 64) over 20 steps of one-hot symbols, last state -> Linear(64 -> 8), cross-entropy; batch 32; Adam',
    params: gru.num_params(),
    ...(await measure(() => gru.train_step(), R.dp)),
    loss_after: gru.last_loss(),
  };
  gru.free();
  const tr = new dp.TransformerBench(2, 64, 4, 16, BATCH, 16);
  results.transformer = {
    config: 'Embedding(16, 64) + sinusoidal PE, 2 pre-norm blocks (4-head self-attention, MLP 64-128-64 GELU), LayerNorm, Linear(64 -> 16) per position; seq 16, batch 32; reversal task; Adam',
    params: tr.num_params(),
    ...(await measure(() => tr.train_step(), R.dp)),
    loss_after: tr.last_loss(),
  };
  tr.free();
}
cnn.free();

results.machine.loadavg_at_end = os.loadavg();
results.seconds = (Date.now() - started) / 1000;

// ---------------------------------------------------------------- report

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
    'Rows marked † are layouts no op runs (the conv op multiplies per sample, so every "batch 32" conv layout is a comparison only), left out of the 70% target below.');
  L.push('');
  L.push('| shape (M x K x N) | DeepPlay kernel, simd128 | % of peak | ndarray, simd128 | % of peak | kernel / ndarray | ndarray, no simd128 | ndarray simd speed-up | DeepPlay op, simd128 |');
  L.push('|---|---|---|---|---|---|---|---|---|');
  for (const g of r.gemm) {
    L.push(`| ${g.name} (${g.m}x${g.k}x${g.n})${g.used_by_an_op === false ? ' †' : ''} | ${fmt(g.deepplay_kernel.median, 1)} | ${g.kernel_pct_of_peak.toFixed(0)}% | ${fmt(g.ndarray_simd.median, 1)} | ${g.pct_of_peak.toFixed(0)}% | ${(g.deepplay_kernel.median / g.ndarray_simd.median).toFixed(2)}x | ${fmt(g.ndarray_nosimd.median, 1)} | ${(g.ndarray_simd.median / g.ndarray_nosimd.median).toFixed(1)}x | ${g.deepplay_op ? fmt(g.deepplay_op.median, 1) : '–'} |`);
  }
  L.push('');

  L.push('## Sequence models: DeepPlay training steps (Adam), ms');
  L.push('');
  L.push('| model | params | ms per step |');
  L.push('|---|---|---|');
  L.push(`| GRU classifier: ${r.gru.config} | ${r.gru.params} | ${cell(r.gru)} |`);
  L.push(`| Transformer: ${r.transformer.config} | ${r.transformer.params} | ${cell(r.transformer)} |`);
  L.push('');

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
  L.push('bash bench/run.sh --smoke   # a few iterations, skips TF.js cpu; writes to a temporary file');
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
    `GRU ${fmt(results.gru.median)} ms, Transformer ${fmt(results.transformer.median)} ms; peak ${fmt(PEAK, 1)} GFLOP/s`
);
console.log(`bench: wrote ${outJson} and ${outMd} in ${results.seconds.toFixed(1)} s`);
