//! Models the labs train.

pub mod cnn;
pub mod cnn_trainer;
pub mod denoiser;
pub mod detector;
pub mod gan;
pub mod mlp;
pub mod recurrent;
pub mod transfer;
pub mod transformer;

use crate::autograd::{Graph, Var};
use crate::error::Result;
use crate::layers::Module;
use crate::metrics::accuracy;
use crate::optim::Optimizer;
use crate::tensor::Tensor;
use core::cell::RefCell;

/// What one training step of a classifier measured on its batch.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepStats {
    /// Mean cross-entropy of the batch.
    pub loss: f32,
    /// Fraction of the batch classified right (before the update).
    pub accuracy: f32,
}

/// The graphs a model runs on, kept from one call to the next so that each
/// step (or each batch of inference) reuses the last one's buffers
/// ([`Graph::reset`]): one for training steps, one (`no_grad`) for
/// inference. A clone of a model starts with empty ones.
pub struct Workspace {
    train: Graph,
    infer: RefCell<Graph>,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace {
            train: Graph::new(),
            infer: RefCell::new(Graph::no_grad()),
        }
    }
}

impl Clone for Workspace {
    fn clone(&self) -> Self {
        Workspace::default()
    }
}

impl core::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Workspace({} free buffers)", self.train.buffers().free_count())
    }
}

impl Workspace {
    /// Runs `f` on the inference graph, reset first (on a fresh one if the
    /// graph is in use: `f` itself ran inference on the same model).
    pub(crate) fn infer<T>(&self, f: impl FnOnce(&mut Graph) -> Result<T>) -> Result<T> {
        match self.infer.try_borrow_mut() {
            Ok(mut g) => {
                g.reset();
                f(&mut g)
            }
            Err(_) => f(&mut Graph::no_grad()),
        }
    }
}

/// One minibatch step of any classifier: `forward` maps the input to logits;
/// then softmax cross-entropy, backward, and the optimizer's update. The
/// step runs on `workspace`'s graph, reset first.
pub(crate) fn classification_step<M: Module>(
    model: &mut M,
    workspace: impl Fn(&mut M) -> &mut Workspace,
    x: &Tensor,
    labels: &[usize],
    opt: &mut Optimizer,
    forward: impl Fn(&M, &mut Graph, Var) -> Result<Var>,
) -> Result<StepStats> {
    let mut g = core::mem::take(&mut workspace(model).train);
    g.reset();
    let stats = step_on(model, &mut g, x, labels, opt, forward);
    workspace(model).train = g;
    stats
}

fn step_on<M: Module>(
    model: &mut M,
    g: &mut Graph,
    x: &Tensor,
    labels: &[usize],
    opt: &mut Optimizer,
    forward: impl Fn(&M, &mut Graph, Var) -> Result<Var>,
) -> Result<StepStats> {
    let input = g.buffers().copy(x);
    let input = g.constant(input);
    let logits = forward(model, g, input)?;
    let loss = g.cross_entropy(logits, labels)?;
    g.backward(loss)?;
    model.collect_grads(g);
    opt.step(&mut model.params_mut());
    let loss_value = g.value(loss).iter().next().copied().unwrap_or(f32::NAN);
    Ok(StepStats {
        loss: loss_value,
        accuracy: accuracy(g.value(logits), labels),
    })
}
