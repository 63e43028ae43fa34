//! The Sequences lab's models: a one-layer recurrent network (tanh RNN, GRU
//! or LSTM) with a linear read-out, trained with full backpropagation
//! through time on the tasks of [`crate::data::sequences`].
//!
//! Each training step also measures what the lab is about: the norm of the
//! loss gradient with respect to every hidden state h_t. On the
//! first-symbol task the loss sits at the last step only, so that norm at
//! step t is how much of the error signal survives the trip from the end of
//! the sequence back to t. A tanh RNN multiplies it by W_hh^T diag(1 - h^2)
//! at every step and it shrinks exponentially; the GRU's update gate (and
//! the LSTM's cell) offers a path where it is multiplied by z, close to 1.

use super::Workspace;
use crate::autograd::{Graph, Var};
use crate::data::sequences::{score_counts, SequenceBatch, SequenceTarget, SequenceTask};
use crate::error::{Error, Result};
use crate::layers::{Gru, Linear, LinearConfig, Lstm, Module, Param, Rnn, RnnConfig};
use crate::optim::{clip_grad_norm, Optimizer};
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::vec::Vec;

/// How many sequences [`RecurrentNet::accuracy`] runs at once.
pub const MEASURE_CHUNK: usize = 64;

/// Which recurrence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CellKind {
    Rnn,
    Gru,
    Lstm,
}

impl CellKind {
    pub const ALL: [CellKind; 3] = [CellKind::Rnn, CellKind::Gru, CellKind::Lstm];

    /// The prefix of its parameter names, `gru.weight_ih_l0`, and of its
    /// read-out's, `gru_head.weight`.
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Rnn => "rnn",
            CellKind::Gru => "gru",
            CellKind::Lstm => "lstm",
        }
    }
}

#[derive(Debug, Clone)]
enum Cell {
    Rnn(Rnn),
    Gru(Gru),
    Lstm(Lstm),
}

/// The sizes of a [`RecurrentNet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecurrentConfig {
    pub kind: CellKind,
    pub task: SequenceTask,
    pub hidden_size: usize,
}

/// A recurrent layer and its read-out.
#[derive(Debug, Clone)]
pub struct RecurrentNet {
    pub config: RecurrentConfig,
    cell: Cell,
    head: Linear,
    workspace: Workspace,
}

/// What one forward pass built, as nodes of its graph.
struct Forward {
    /// h_1 .. h_T, [N, H] each.
    hidden: Vec<Var>,
    /// [N, out] (last step) or [T * N, out] (every step).
    prediction: Var,
    /// The GRU's update and reset gates per step, [N, H] each.
    update_gates: Vec<Var>,
    reset_gates: Vec<Var>,
}

/// What one training step measured.
#[derive(Debug, Clone, PartialEq)]
pub struct RecurrentStepStats {
    pub loss: f32,
    /// The global gradient norm of the parameters, before clipping.
    pub grad_norm: f32,
    /// ||dL/dh_t|| for t = 1..T (index 0 is the first step), the whole
    /// batch's gradient with respect to that step's hidden state.
    pub hidden_grad_norms: Vec<f32>,
}

/// One example run through a model, for drawing: every tensor is [T, H]
/// (time-major rows), gates only for the GRU.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub hidden: Tensor,
    pub update_gate: Option<Tensor>,
    pub reset_gate: Option<Tensor>,
    /// The model's answer at each step that has one: [1, out] or [T, out].
    pub prediction: Tensor,
}

impl RecurrentNet {
    pub fn new(config: RecurrentConfig, rng: &mut Rng) -> Result<Self> {
        let RecurrentConfig {
            kind,
            task,
            hidden_size,
        } = config;
        crate::limits::RNN_HIDDEN.check("recurrent", "hidden size", hidden_size)?;
        let sizes = RnnConfig {
            input_size: task.input_size(),
            hidden_size,
        };
        let name = kind.name();
        let cell = match kind {
            CellKind::Rnn => Cell::Rnn(Rnn::new(name, sizes, rng)),
            CellKind::Gru => Cell::Gru(Gru::new(name, sizes, rng)),
            CellKind::Lstm => {
                let mut lstm = Lstm::new(name, sizes, rng);
                // The forget gate starts open (bias + 1, as Keras's
                // `unit_forget_bias` does; Jozefowicz et al. 2015): with
                // PyTorch's plain init it starts at 0.5 and the cell forgets
                // half of itself every step, so a long memory task stalls.
                for b in lstm.bias_ih.value.iter_mut().skip(hidden_size).take(hidden_size) {
                    *b += 1.0;
                }
                Cell::Lstm(lstm)
            }
        };
        let head_name = alloc::format!("{name}_head");
        let head = Linear::new(
            &head_name,
            LinearConfig {
                in_features: hidden_size,
                out_features: task.output_size(),
            },
            rng,
        );
        Ok(RecurrentNet {
            config,
            cell,
            head,
            workspace: Workspace::default(),
        })
    }

    fn forward(&self, g: &mut Graph, x: Var) -> Result<Forward> {
        let (mut update_gates, mut reset_gates) = (Vec::new(), Vec::new());
        let (outputs, hidden) = match &self.cell {
            Cell::Rnn(rnn) => {
                let out = rnn.forward(g, x, None)?;
                (out.outputs, out.hidden)
            }
            Cell::Gru(gru) => {
                let out = gru.forward(g, x, None)?;
                update_gates = out.update_gates;
                reset_gates = out.reset_gates;
                (out.rnn.outputs, out.rnn.hidden)
            }
            Cell::Lstm(lstm) => {
                let out = lstm.forward(g, x, None)?;
                (out.rnn.outputs, out.rnn.hidden)
            }
        };
        let read = if self.config.task.every_step() {
            let shape = g.shape(outputs).to_vec();
            g.reshape(outputs, &[shape[0] * shape[1], shape[2]])?
        } else {
            *hidden
                .last()
                .ok_or_else(|| Error::invalid("recurrent", "the sequence is empty"))?
        };
        let prediction = self.head.forward(g, read)?;
        Ok(Forward {
            hidden,
            prediction,
            update_gates,
            reset_gates,
        })
    }

    fn loss(g: &mut Graph, prediction: Var, target: &SequenceTarget) -> Result<Var> {
        match target {
            SequenceTarget::Classes(labels) => g.cross_entropy(prediction, labels),
            SequenceTarget::Value(truth) | SequenceTarget::Series(truth) => {
                let rows = g.shape(prediction)[0];
                let flat = truth
                    .clone()
                    .into_shape_with_order(ndarray::IxDyn(&[rows, 1]))
                    .map_err(|_| Error::invalid("recurrent", "the targets do not match the predictions"))?;
                let y = g.constant(flat);
                g.mse_loss(prediction, y)
            }
        }
    }

    /// One step of full backpropagation through time on `batch`, with the
    /// global gradient norm clipped to `clip` if given.
    pub fn train_step(
        &mut self,
        batch: &SequenceBatch,
        opt: &mut Optimizer,
        clip: Option<f32>,
    ) -> Result<RecurrentStepStats> {
        let mut g = core::mem::take(&mut self.workspace.train);
        g.reset();
        let stats = self.step_on(&mut g, batch, opt, clip);
        self.workspace.train = g;
        stats
    }

    fn step_on(
        &mut self,
        g: &mut Graph,
        batch: &SequenceBatch,
        opt: &mut Optimizer,
        clip: Option<f32>,
    ) -> Result<RecurrentStepStats> {
        let input = g.buffers().copy(&batch.x);
        let x = g.constant(input);
        let forward = self.forward(g, x)?;
        let loss = Self::loss(g, forward.prediction, &batch.target)?;
        g.backward(loss)?;
        let hidden_grad_norms = forward
            .hidden
            .iter()
            .map(|&h| g.grad(h).map_or(0.0, |d| libm::sqrtf(d.iter().map(|v| v * v).sum())))
            .collect();
        self.collect_grads(g);
        let mut params = self.params_mut();
        // Without a threshold the norm is still measured (nothing exceeds infinity).
        let grad_norm = clip_grad_norm(&mut params, clip.unwrap_or(f32::INFINITY));
        opt.step(&mut params);
        Ok(RecurrentStepStats {
            loss: g.value(loss).iter().next().copied().unwrap_or(f32::NAN),
            grad_norm,
            hidden_grad_norms,
        })
    }

    /// The model's answers on `batch` (no gradients): [N, out] or [T * N, out].
    pub fn predict(&self, batch: &SequenceBatch) -> Result<Tensor> {
        self.workspace.infer(|g| {
            let input = g.buffers().copy(&batch.x);
            let x = g.constant(input);
            let forward = self.forward(g, x)?;
            Ok(g.value(forward.prediction).clone())
        })
    }

    /// The fraction of `batch` answered right (see
    /// [`crate::data::sequences::score`]), measured
    /// [`MEASURE_CHUNK`] sequences at a time: the same answer as one pass,
    /// while the buffers the inference graph keeps for reuse are sized for
    /// a chunk, not the whole set (a wasm memory never gives memory back:
    /// the Sequences lab's worker peaked at 241 MB measuring its 256
    /// held-out sequences in one pass per network).
    pub fn accuracy(&self, batch: &SequenceBatch) -> Result<f32> {
        let n = batch.batch_size();
        let (mut right, mut total) = (0, 0);
        for start in (0..n).step_by(MEASURE_CHUNK) {
            let chunk = batch.sequences(start..start + MEASURE_CHUNK);
            let (r, t) = score_counts(self.config.task, &self.predict(&chunk)?, &chunk.target);
            right += r;
            total += t;
        }
        Ok(if total == 0 { 0.0 } else { right as f32 / total as f32 })
    }

    /// Example `index` of `batch` run alone, with its hidden states and
    /// (for the GRU) gates at every step.
    pub fn trace(&self, batch: &SequenceBatch, index: usize) -> Result<Trace> {
        let (t, n, i) = (batch.x.shape()[0], batch.x.shape()[1], batch.x.shape()[2]);
        if index >= n {
            return Err(Error::invalid("trace", "no such example"));
        }
        let one = batch
            .x
            .slice(ndarray::s![.., index..index + 1, ..])
            .to_owned()
            .into_dyn();
        self.workspace.infer(|g| {
            let x = g.constant(one);
            let forward = self.forward(g, x)?;
            let h = self.config.hidden_size;
            let rows = |g: &Graph, vars: &[Var]| -> Option<Tensor> {
                if vars.is_empty() {
                    return None;
                }
                let data: Vec<f32> = vars.iter().flat_map(|&v| g.value(v).iter().copied()).collect();
                Tensor::from_shape_vec(ndarray::IxDyn(&[vars.len(), h]), data).ok()
            };
            let hidden = rows(g, &forward.hidden).ok_or_else(|| Error::invalid("trace", "no hidden states"))?;
            debug_assert_eq!((hidden.shape()[0], i > 0), (t, true));
            Ok(Trace {
                hidden,
                update_gate: rows(g, &forward.update_gates),
                reset_gate: rows(g, &forward.reset_gates),
                prediction: g.value(forward.prediction).clone(),
            })
        })
    }

    /// Whether every weight is a finite number.
    pub fn is_finite(&self) -> bool {
        self.params().iter().all(|p| p.value.iter().all(|v| v.is_finite()))
    }
}

impl Module for RecurrentNet {
    fn params(&self) -> Vec<&Param> {
        let mut params = match &self.cell {
            Cell::Rnn(c) => c.params(),
            Cell::Gru(c) => c.params(),
            Cell::Lstm(c) => c.params(),
        };
        params.extend(self.head.params());
        params
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut params = match &mut self.cell {
            Cell::Rnn(c) => c.params_mut(),
            Cell::Gru(c) => c.params_mut(),
            Cell::Lstm(c) => c.params_mut(),
        };
        params.extend(self.head.params_mut());
        params
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn net(kind: CellKind, task: SequenceTask, hidden: usize, seed: u64) -> RecurrentNet {
        let config = RecurrentConfig {
            kind,
            task,
            hidden_size: hidden,
        };
        RecurrentNet::new(config, &mut Rng::new(seed)).unwrap()
    }

    #[test]
    fn accuracy_in_chunks_is_the_accuracy_of_one_pass() {
        use crate::data::sequences::score;
        // 150 sequences: two whole chunks and a part, for every kind of target.
        for task in [SequenceTask::FirstSymbol, SequenceTask::Adding, SequenceTask::Sines] {
            let model = net(CellKind::Gru, task, 8, 3);
            let batch = task.generate(6, 150, &mut Rng::new(5));
            let one_pass = score(task, &model.predict(&batch).unwrap(), &batch.target);
            assert_eq!(model.accuracy(&batch).unwrap(), one_pass, "{task:?}");
        }
        let batch = SequenceTask::Adding.generate(4, 10, &mut Rng::new(1));
        let part = batch.sequences(3..7);
        assert_eq!(part.batch_size(), 4);
        assert_eq!(part.x, batch.x.slice(ndarray::s![.., 3..7, ..]).to_owned().into_dyn());
        assert_eq!(batch.sequences(8..99).batch_size(), 2, "clamped to the batch");
        assert_eq!(batch.sequences(20..30).batch_size(), 0);
    }

    #[test]
    fn parameter_counts_follow_pytorch() {
        // GRU: 3 (H I + H H + 2 H); LSTM: 4 (...); RNN: 1 (...); + head H O + O.
        let (i, h, o) = (9, 16, 4);
        let head = h * o + o;
        let per_gate = h * i + h * h + 2 * h;
        let task = SequenceTask::FirstSymbol;
        assert_eq!(net(CellKind::Rnn, task, h, 1).num_params(), per_gate + head);
        assert_eq!(net(CellKind::Gru, task, h, 1).num_params(), 3 * per_gate + head);
        assert_eq!(net(CellKind::Lstm, task, h, 1).num_params(), 4 * per_gate + head);
        let names: Vec<_> = net(CellKind::Gru, task, h, 1)
            .params()
            .iter()
            .map(|p| p.name.clone())
            .collect();
        assert_eq!(
            names,
            [
                "gru.weight_ih_l0",
                "gru.weight_hh_l0",
                "gru.bias_ih_l0",
                "gru.bias_hh_l0",
                "gru_head.weight",
                "gru_head.bias"
            ]
        );
    }

    #[test]
    fn hidden_sizes_out_of_range_are_refused() {
        let config = RecurrentConfig {
            kind: CellKind::Gru,
            task: SequenceTask::FirstSymbol,
            hidden_size: 1000,
        };
        let message = RecurrentNet::new(config, &mut Rng::new(1)).unwrap_err().to_string();
        assert!(message.contains("hidden size"), "{message}");
    }

    #[test]
    fn every_task_trains_every_cell_and_measures_each_step() {
        for task in [SequenceTask::FirstSymbol, SequenceTask::Adding, SequenceTask::Sines] {
            for kind in CellKind::ALL {
                let mut model = net(kind, task, 8, 3);
                let batch = task.generate(7, 5, &mut Rng::new(4));
                let mut opt = Optimizer::adam(0.01);
                let first = model.train_step(&batch, &mut opt, Some(1.0)).unwrap();
                assert_eq!(first.hidden_grad_norms.len(), 7);
                assert!(first.loss.is_finite() && first.grad_norm > 0.0);
                assert!(first.hidden_grad_norms.iter().all(|v| v.is_finite() && *v > 0.0));
                for _ in 0..20 {
                    model.train_step(&batch, &mut opt, Some(1.0)).unwrap();
                }
                let later = model.train_step(&batch, &mut opt, Some(1.0)).unwrap();
                assert!(
                    later.loss < first.loss,
                    "{task:?} {kind:?}: {} -> {}",
                    first.loss,
                    later.loss
                );
                let trace = model.trace(&batch, 2).unwrap();
                assert_eq!(trace.hidden.shape(), &[7, 8]);
                assert_eq!(trace.update_gate.is_some(), kind == CellKind::Gru);
                if let Some(z) = &trace.update_gate {
                    assert!(z.iter().all(|v| *v > 0.0 && *v < 1.0));
                }
            }
        }
    }

    /// The lab's lesson, natively: on the first-symbol task at length 20
    /// the tanh RNN's gradient at the first step is a vanishing fraction of
    /// the last step's, while the GRU learns the task.
    #[test]
    fn the_gru_remembers_where_the_rnn_gradient_vanishes() {
        let task = SequenceTask::FirstSymbol;
        let length = 20;
        let held_out = task.generate(length, 256, &mut Rng::new(99));
        let mut rng = Rng::new(7);
        let mut rnn = net(CellKind::Rnn, task, 32, 7);
        let mut gru = net(CellKind::Gru, task, 32, 7);
        let (mut rnn_opt, mut gru_opt) = (Optimizer::adam(0.01), Optimizer::adam(0.01));
        let ratio = |norms: &[f32]| norms[0] / norms[norms.len() - 1];
        let mut solved_at = None;
        for step in 1..=1500 {
            let batch = task.generate(length, 32, &mut rng);
            let r = rnn.train_step(&batch, &mut rnn_opt, Some(1.0)).unwrap();
            let g = gru.train_step(&batch, &mut gru_opt, Some(1.0)).unwrap();
            if step == 1 {
                // From the start, 20 steps of tanh and W_hh shrink the RNN's
                // gradient by orders of magnitude.
                assert!(ratio(&r.hidden_grad_norms) < 1e-3, "rnn {:?}", r.hidden_grad_norms);
            }
            if step % 100 == 0 && gru.accuracy(&held_out).unwrap() >= 0.95 {
                solved_at = Some(step);
                // Once it remembers, the GRU's gradient reaches step 1
                // nearly whole; the RNN's still does not.
                let (r, g) = (ratio(&r.hidden_grad_norms), ratio(&g.hidden_grad_norms));
                assert!(r < 1e-3, "the RNN's first-step gradient is {r} of its last");
                assert!(g > 1e-2, "the GRU's first-step gradient is {g} of its last");
                break;
            }
        }
        assert!(solved_at.is_some(), "the GRU did not reach 95% in 1500 steps");
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = || {
            let mut model = net(CellKind::Lstm, SequenceTask::Adding, 8, 5);
            let mut opt = Optimizer::adam(0.01);
            let mut rng = Rng::new(6);
            (0..5)
                .map(|_| {
                    let batch = SequenceTask::Adding.generate(10, 4, &mut rng);
                    model.train_step(&batch, &mut opt, Some(1.0)).unwrap().loss
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
