//! Models the labs train.

pub mod cnn;
pub mod cnn_trainer;
pub mod mlp;

use crate::autograd::{Graph, Var};
use crate::error::Result;
use crate::layers::Module;
use crate::optim::Optimizer;
use crate::tensor::Tensor;
use mlp::{accuracy, StepStats};

/// The graph a model trains on, kept from one step to the next so that each
/// step reuses the last one's buffers ([`Graph::reset`]). A clone of a model
/// starts with an empty one.
#[derive(Default)]
pub struct Workspace(Graph);

impl Clone for Workspace {
    fn clone(&self) -> Self {
        Workspace::default()
    }
}

impl core::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Workspace({} free buffers)", self.0.buffers().free_count())
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
    let mut g = core::mem::take(&mut workspace(model).0);
    g.reset();
    let stats = step_on(model, &mut g, x, labels, opt, forward);
    workspace(model).0 = g;
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
