//! The Sequences lab's training step, timed inside wasm: the core's own
//! [`RecurrentNet`] (a tanh RNN, a GRU or an LSTM with a linear read-out of
//! the last hidden state) at the lab's defaults: the first-symbol task
//! (one-hot inputs of 9 features: 4 symbols, 4 distractors, the query),
//! length 40, batch 32, hidden size 32, 4 classes, cross-entropy, Adam 0.01
//! and clipping at a global gradient norm of 1. That is the step the lab's
//! worker runs (on a fresh batch each time; here one batch, made outside the
//! timer, the same arrays TF.js gets).
//!
//! The GRU's step is also cut by op kind (forward and backward apart): the
//! core has no profiler, so [`RecurrentBench::breakdown`] runs the same graph
//! ops `Graph::gru` and `RecurrentNet` run, on a copy of the model's weights,
//! timing each op call in the forward pass. For the backward pass, each op's
//! output goes through an identity node of its own (a "marker") whose
//! backward closure records the time: `Graph::backward` runs the nodes in
//! reverse order, so the time from the end of one marker's closure to the
//! start of the next is the backward of the op the first marker follows,
//! including adding its gradients into its inputs'. The markers' own copies
//! are outside every part; the script reports the whole step next to the
//! sum of the parts.

use crate::marks::{mark, Log};
use crate::{js_err, now_ms};
use deepplay_core::data::sequences::{SequenceBatch, SequenceTarget, SequenceTask};
use deepplay_core::layers::{Gru, GruConfig, Linear, LinearConfig};
use deepplay_core::models::recurrent::{CellKind, RecurrentConfig, RecurrentNet};
use deepplay_core::optim::{clip_grad_norm, Optimizer};
use deepplay_core::{Error, Graph, Module, Param, Rng, Var};

type Result<T> = deepplay_core::Result<T>;
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;

/// The lab's defaults.
pub const LEARNING_RATE: f32 = 0.01;
pub const CLIP_NORM: f32 = 1.0;

/// The kinds of graph op a GRU step runs, in the order they first run.
pub const OP_KINDS: [&str; 10] = [
    "input projection (linear, all steps in one GEMM)",
    "step slice of the projection (narrow, reshape)",
    "recurrent product (linear, one per step)",
    "gate slices (narrow)",
    "add, sub, mul",
    "sigmoid",
    "tanh",
    "stack the hidden states (reshape, concat)",
    "read-out (linear)",
    "cross-entropy",
];
const INPUT: usize = 0;
const STEP_SLICE: usize = 1;
const RECURRENT: usize = 2;
const GATE_SLICE: usize = 3;
const ELEMENTWISE: usize = 4;
const SIGMOID: usize = 5;
const TANH: usize = 6;
const STACK: usize = 7;
const READOUT: usize = 8;
const LOSS: usize = 9;

/// The parts of a step outside the graph ops, in the order they run.
pub const OTHER_PARTS: [&str; 6] = [
    "tape reset, batch and weights onto the tape",
    "backward pass setup (seed, gradient slots)",
    "hidden-state gradient norms (what the lab plots)",
    "gather the parameters' gradients",
    "clip (global norm)",
    "Adam (and zeroing the gradients)",
];

/// "rnn", "gru" or "lstm".
pub fn cell_kind(name: &str) -> Result<CellKind> {
    CellKind::ALL
        .into_iter()
        .find(|k| k.name() == name)
        .ok_or_else(|| Error::invalid("bench", "the cell is one of rnn, gru, lstm"))
}

#[wasm_bindgen]
pub struct RecurrentBench {
    model: RecurrentNet,
    opt: Optimizer,
    batch: SequenceBatch,
    last_loss: f32,
    /// The GRU's step rebuilt op by op (GRU only).
    replica: Option<GruReplica>,
}

/// The same GRU and read-out as the model (its weights copied), its own
/// Adam and its own tape, reset each step as `RecurrentNet` resets its.
struct GruReplica {
    gru: Gru,
    head: Linear,
    opt: Optimizer,
    graph: Graph,
}

impl GruReplica {
    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut p = self.gru.params_mut();
        p.extend(self.head.params_mut());
        p
    }
}

/// Runs graph ops one at a time: adds each call's time to its kind's
/// forward time and puts a marker after its output.
struct Timed<'a> {
    g: &'a mut Graph,
    forward: [f64; OP_KINDS.len()],
    log: Log,
}

impl Timed<'_> {
    fn op(&mut self, kind: usize, f: impl FnOnce(&mut Graph) -> Result<Var>) -> Result<Var> {
        let t0 = now_ms();
        let v = f(self.g)?;
        self.forward[kind] += now_ms() - t0;
        Ok(mark(self.g, v, kind, &self.log))
    }
}

impl RecurrentBench {
    pub fn build(kind: CellKind, seq_len: usize, batch: usize, hidden: usize, seed: u64) -> Result<Self> {
        let task = SequenceTask::FirstSymbol;
        let config = RecurrentConfig {
            kind,
            task,
            hidden_size: hidden,
        };
        let model = RecurrentNet::new(config, &mut Rng::new(seed))?;
        let data = task.generate(seq_len, batch, &mut Rng::new(seed ^ 0x05ee_d0f4_e1d0));
        let replica = (kind == CellKind::Gru).then(|| {
            let sizes = GruConfig {
                input_size: task.input_size(),
                hidden_size: hidden,
            };
            let head = LinearConfig {
                in_features: hidden,
                out_features: task.output_size(),
            };
            let mut replica = GruReplica {
                gru: Gru::new("gru", sizes, &mut Rng::new(0)),
                head: Linear::new("gru_head", head, &mut Rng::new(0)),
                opt: Optimizer::adam(LEARNING_RATE),
                graph: Graph::new(),
            };
            for (mine, theirs) in replica.params_mut().into_iter().zip(model.params()) {
                debug_assert_eq!(mine.name, theirs.name);
                mine.value.assign(&theirs.value);
            }
            replica
        });
        Ok(RecurrentBench {
            model,
            opt: Optimizer::adam(LEARNING_RATE),
            batch: data,
            last_loss: f32::NAN,
            replica,
        })
    }

    fn labels(&self) -> &[usize] {
        match &self.batch.target {
            SequenceTarget::Classes(labels) => labels,
            _ => &[],
        }
    }

    /// One `RecurrentNet::train_step` (forward through time, backward
    /// through time, clipping, Adam), ms.
    pub fn step(&mut self) -> Result<f64> {
        let t0 = now_ms();
        let stats = self.model.train_step(&self.batch, &mut self.opt, Some(CLIP_NORM))?;
        let ms = now_ms() - t0;
        self.last_loss = stats.loss;
        Ok(ms)
    }

    /// One GRU step cut into parts, ms each: the forward time of every
    /// [`OP_KINDS`] entry, then their backward times, then [`OTHER_PARTS`].
    pub fn breakdown_step(&mut self) -> Result<Vec<f64>> {
        let labels = self.labels().to_vec();
        let x_value = &self.batch.x;
        let replica = self
            .replica
            .as_mut()
            .ok_or_else(|| Error::invalid("bench", "the breakdown is for the GRU"))?;
        let mut other = [0.0; OTHER_PARTS.len()];
        let log: Log = Rc::new(RefCell::new(Vec::with_capacity(1024)));
        let (steps, n, h) = (x_value.shape()[0], x_value.shape()[1], replica.gru.hidden_size);

        let t0 = now_ms();
        let g = &mut replica.graph;
        g.reset();
        let input = g.buffers().copy(x_value);
        let x = g.constant(input);
        let [w_ih, w_hh, b_ih, b_hh] = [
            &replica.gru.weight_ih,
            &replica.gru.weight_hh,
            &replica.gru.bias_ih,
            &replica.gru.bias_hh,
        ]
        .map(|p| p.var(g));
        let (w_out, b_out) = (replica.head.weight.var(g), replica.head.bias.var(g));
        let h0 = g.constant(deepplay_core::tensor::zeros(&[n, h]));
        other[0] = now_ms() - t0;

        // Forward: Graph::gru's ops, then RecurrentNet's read-out and loss.
        let mut t = Timed {
            g: &mut *g,
            forward: [0.0; OP_KINDS.len()],
            log: Rc::clone(&log),
        };
        let projected = t.op(INPUT, |g| g.linear(x, w_ih, Some(b_ih)))?;
        let mut hidden = Vec::with_capacity(steps);
        let mut state = h0;
        for step in 0..steps {
            let slice = t.op(STEP_SLICE, |g| g.narrow(projected, 0, step, 1))?;
            let gi = t.op(STEP_SLICE, |g| g.reshape(slice, &[n, 3 * h]))?;
            let gh = t.op(RECURRENT, |g| g.linear(state, w_hh, Some(b_hh)))?;
            let mut part = |v: Var, k: usize| t.op(GATE_SLICE, |g| g.narrow(v, 1, k * h, h));
            let (i_r, i_z, i_n) = (part(gi, 0)?, part(gi, 1)?, part(gi, 2)?);
            let (h_r, h_z, h_n) = (part(gh, 0)?, part(gh, 1)?, part(gh, 2)?);
            let pre_r = t.op(ELEMENTWISE, |g| g.add(i_r, h_r))?;
            let reset = t.op(SIGMOID, |g| Ok(g.sigmoid(pre_r)))?;
            let pre_z = t.op(ELEMENTWISE, |g| g.add(i_z, h_z))?;
            let update = t.op(SIGMOID, |g| Ok(g.sigmoid(pre_z)))?;
            let gated = t.op(ELEMENTWISE, |g| g.mul(reset, h_n))?;
            let pre_n = t.op(ELEMENTWISE, |g| g.add(i_n, gated))?;
            let candidate = t.op(TANH, |g| Ok(g.tanh(pre_n)))?;
            let keep = t.op(ELEMENTWISE, |g| g.sub(state, candidate))?;
            let kept = t.op(ELEMENTWISE, |g| g.mul(update, keep))?;
            state = t.op(ELEMENTWISE, |g| g.add(candidate, kept))?;
            hidden.push(state);
        }
        // Graph::gru stacks every state into [T, N, H] (unused on this task).
        let mut framed = Vec::with_capacity(steps);
        for &s in &hidden {
            framed.push(t.op(STACK, |g| g.reshape(s, &[1, n, h]))?);
        }
        t.op(STACK, |g| g.concat(&framed, 0))?;
        let last = *hidden.last().ok_or_else(|| Error::invalid("bench", "empty sequence"))?;
        let logits = t.op(READOUT, |g| g.linear(last, w_out, Some(b_out)))?;
        let loss = t.op(LOSS, |g| g.cross_entropy(logits, &labels))?;
        let forward = t.forward;

        // Backward: the time between markers is the op before each.
        let start = now_ms();
        g.backward(loss)?;
        let end = now_ms();
        let mut backward = [0.0; OP_KINDS.len()];
        let marks = log.borrow();
        other[1] = marks.first().map_or(0.0, |m| m.start - start);
        for (i, m) in marks.iter().enumerate() {
            let next = marks.get(i + 1).map_or(end, |n| n.start);
            backward[m.part] += next - m.end;
        }
        drop(marks);
        self.last_loss = g.value(loss).iter().next().copied().unwrap_or(f32::NAN);

        // What RecurrentNet::train_step does after backward.
        let t0 = now_ms();
        let norms: Vec<f32> = hidden
            .iter()
            .map(|&v| g.grad(v).map_or(0.0, |d| d.iter().map(|x| x * x).sum::<f32>().sqrt()))
            .collect();
        other[2] = now_ms() - t0;
        core::hint::black_box(norms);
        let t0 = now_ms();
        replica.gru.collect_grads(&replica.graph);
        replica.head.collect_grads(&replica.graph);
        let mut opt = core::mem::replace(&mut replica.opt, Optimizer::sgd(0.0, 0.0, 0.0));
        let mut params = replica.params_mut();
        other[3] = now_ms() - t0;
        let t0 = now_ms();
        clip_grad_norm(&mut params, CLIP_NORM);
        other[4] = now_ms() - t0;
        let t0 = now_ms();
        opt.step(&mut params);
        other[5] = now_ms() - t0;
        replica.opt = opt;

        let mut times = Vec::with_capacity(2 * OP_KINDS.len() + OTHER_PARTS.len());
        times.extend_from_slice(&forward);
        times.extend_from_slice(&backward);
        times.extend_from_slice(&other);
        Ok(times)
    }
}

#[wasm_bindgen]
impl RecurrentBench {
    /// `cell`: "rnn", "gru" or "lstm"; the first-symbol task at `seq_len`
    /// steps, `batch` sequences, `hidden` units; weights and batch from `seed`.
    #[wasm_bindgen(constructor)]
    pub fn new(
        cell: &str,
        seq_len: usize,
        batch: usize,
        hidden: usize,
        seed: u32,
    ) -> core::result::Result<RecurrentBench, JsError> {
        let kind = cell_kind(cell).map_err(js_err)?;
        Self::build(kind, seq_len, batch, hidden, u64::from(seed)).map_err(js_err)
    }

    /// One `RecurrentNet::train_step` with Adam 0.01 and clipping at 1, ms.
    pub fn train_step(&mut self) -> core::result::Result<f64, JsError> {
        self.step().map_err(js_err)
    }

    /// Names of the values [`RecurrentBench::breakdown`] returns, in order:
    /// "forward: <op kind>", then "backward: <op kind>", then the other parts.
    pub fn breakdown_names() -> Vec<String> {
        let ops = |phase: &'static str| OP_KINDS.iter().map(move |k| format!("{phase}: {k}"));
        ops("forward")
            .chain(ops("backward"))
            .chain(OTHER_PARTS.iter().map(|s| s.to_string()))
            .collect()
    }

    /// The GRU's step cut into parts (see the module docs), ms each, in
    /// `breakdown_names` order. Fails for the RNN and the LSTM.
    pub fn breakdown(&mut self) -> core::result::Result<Vec<f64>, JsError> {
        self.breakdown_step().map_err(js_err)
    }

    /// The batch for other libraries: [N, T, features] (batch-major, as
    /// Keras's recurrent layers take it), the same values as the model's
    /// time-major [T, N, features].
    pub fn inputs_batch_major(&self) -> Vec<f32> {
        let x = &self.batch.x;
        let (t, n, f) = (x.shape()[0], x.shape()[1], x.shape()[2]);
        let mut out = Vec::with_capacity(t * n * f);
        for i in 0..n {
            for s in 0..t {
                out.extend((0..f).map(|j| x[[s, i, j]]));
            }
        }
        out
    }

    /// The class of each sequence (the first symbol).
    pub fn labels_u32(&self) -> Vec<u32> {
        self.labels().iter().map(|&l| l as u32).collect()
    }

    pub fn features(&self) -> usize {
        self.batch.x.shape()[2]
    }

    pub fn classes(&self) -> usize {
        self.model.config.task.output_size()
    }

    /// The loss of the last step (to show that it trains).
    pub fn last_loss(&self) -> f32 {
        self.last_loss
    }

    pub fn num_params(&self) -> usize {
        self.model.num_params()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cell_trains_at_the_lab_shapes() {
        for kind in CellKind::ALL {
            let mut b = RecurrentBench::build(kind, 6, 8, 8, 3).unwrap();
            b.step().unwrap();
            let first = b.last_loss;
            for _ in 0..30 {
                b.step().unwrap();
            }
            assert!(b.last_loss < first, "{kind:?}: {first} -> {}", b.last_loss);
            assert_eq!(b.breakdown_step().is_ok(), kind == CellKind::Gru);
        }
        let b = RecurrentBench::build(CellKind::Gru, 40, 32, 32, 7).unwrap();
        assert_eq!(b.features(), 9);
        assert_eq!(b.classes(), 4);
        let x = b.inputs_batch_major();
        assert_eq!(x.len(), 32 * 40 * 9);
        // Sequence 3, step 0, one-hot of its label; step 39 is the query.
        let label = b.labels_u32()[3] as usize;
        assert_eq!(x[3 * 40 * 9 + label], 1.0);
        assert_eq!(x[3 * 40 * 9 + 39 * 9 + 8], 1.0);
        assert_eq!(x.iter().sum::<f32>(), (32 * 40) as f32);
    }

    #[test]
    fn breakdown_covers_every_part_and_matches_the_models_step() {
        // The op-by-op step must compute what RecurrentNet::train_step does:
        // same loss, same weights after one update.
        let mut b = RecurrentBench::build(CellKind::Gru, 7, 5, 6, 11).unwrap();
        b.opt = Optimizer::sgd(0.5, 0.0, 0.0);
        b.replica.as_mut().unwrap().opt = Optimizer::sgd(0.5, 0.0, 0.0);
        b.step().unwrap();
        let whole = b.last_loss;
        let times = b.breakdown_step().unwrap();
        assert!((b.last_loss - whole).abs() < 1e-6, "{whole} vs {}", b.last_loss);
        assert_eq!(times.len(), RecurrentBench::breakdown_names().len());
        assert!(times.iter().all(|v| v.is_finite() && *v >= 0.0));
        let replica = b.replica.as_mut().unwrap();
        let mine: Vec<Param> = replica.params_mut().into_iter().map(|p| p.clone()).collect();
        for (p, q) in b.model.params().iter().zip(&mine) {
            assert_eq!(p.name, q.name);
            for (x, y) in p.value.iter().zip(q.value.iter()) {
                assert!((x - y).abs() <= 1e-5 * (1.0 + x.abs()), "{}: {x} vs {y}", p.name);
            }
        }
    }
}
