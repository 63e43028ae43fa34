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

/// One minibatch step of any classifier: `forward` maps the input to logits;
/// then softmax cross-entropy, backward, and the optimizer's update.
pub(crate) fn classification_step<M: Module>(
    model: &mut M,
    x: &Tensor,
    labels: &[usize],
    opt: &mut Optimizer,
    forward: impl Fn(&M, &mut Graph, Var) -> Result<Var>,
) -> Result<StepStats> {
    let mut g = Graph::new();
    let input = g.constant(x.clone());
    let logits = forward(model, &mut g, input)?;
    let loss = g.cross_entropy(logits, labels)?;
    g.backward(loss)?;
    model.collect_grads(&g);
    opt.step(&mut model.params_mut());
    let loss_value = g.value(loss).iter().next().copied().unwrap_or(f32::NAN);
    Ok(StepStats {
        loss: loss_value,
        accuracy: accuracy(g.value(logits), labels),
    })
}
