// Quick A/B loop for kernel work (not part of the benchmark): CNN step,
// inference at batch 1 and 256, and the step breakdown, DeepPlay only.
//   cargo build --release -q -p deepplay-bench --target wasm32-unknown-unknown &&
//   wasm-bindgen --target nodejs --out-dir bench/pkg target/wasm32-unknown-unknown/release/deepplay_bench.wasm &&
//   node bench/quick.mjs
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const dp = require('./pkg/deepplay_bench.js');
// Minimum, not median: the quickest repetition is the least disturbed by other load.
const med = (a) => Math.min(...a);
const images = dp.mnist_like_images(256, 1);
const labels = dp.mnist_like_labels(256, 1);
const cnn = new dp.CnnBench(images, labels, 32, 1e-3);
const rep = (f, n) => { for (let i = 0; i < 5; i++) f(); const t = []; for (let i = 0; i < n; i++) t.push(f()); return med(t); };
console.log('step', rep(() => cnn.train_step(), 40).toFixed(3));
console.log('infer b1', rep(() => cnn.inference(1), 200).toFixed(4));
console.log('infer b256', rep(() => cnn.inference(256), 15).toFixed(3));
const names = dp.CnnBench.breakdown_names();
const runs = []; for (let i = 0; i < 25; i++) runs.push(cnn.breakdown());
names.forEach((n, i) => console.log(n.padEnd(24), med(runs.slice(5).map((r) => r[i])).toFixed(3)));
// The GEMM shapes under 70% of peak in bench/README.md, DeepPlay's kernel only.
const GEMM = process.env.GEMM ? JSON.parse(process.env.GEMM) : [
  [16, 16, 16, false, true], [16, 16, 16], [16, 16, 16, false, true, 128], [16, 16, 16, false, false, 128],
  [640, 8, 192, false, true], [8, 25, 25088],
  [25088, 25, 8, false, true], [200, 16, 196, true, false], [32, 256, 10, false, true],
];
for (const [m, k, n, ta = false, tb = false, batch = 0] of GEMM) {
  const g = new dp.Gemm(m, k, n, ta, tb);
  const iters = Math.max(1, Math.round(4e7 / (2 * m * k * n)));
  const calls = batch ? Math.max(1, Math.round(iters / batch)) : iters;
  const run = () => (batch ? g.run_kernel_batched(batch, calls) : g.run_kernel(calls));
  const s = [];
  for (let i = 0; i < 9; i++) s.push(((batch || 1) * g.flops() * calls) / (run() * 1e6));
  const label = `gemm ${m}x${k}x${n}${ta ? ' A^T' : ''}${tb ? ' B^T' : ''}${batch ? ` x${batch}` : ''}`;
  console.log(label.padEnd(28), Math.max(...s).toFixed(1), 'GFLOP/s');
  g.free();
}
