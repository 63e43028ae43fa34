//! A trainable tensor and the trait every model implements.

use crate::autograd::{Graph, Var};
use crate::tensor::{zeros, Tensor};
use alloc::string::String;
use alloc::vec::Vec;
use core::cell::Cell;

/// A named trainable tensor with its accumulated gradient.
///
/// During a forward pass [`Param::var`] puts the value on the graph and
/// remembers the node, so that after `backward` [`Param::collect_grad`] can
/// find its gradient without the model keeping a list of nodes.
#[derive(Debug, Clone)]
pub struct Param {
    /// PyTorch-style name, e.g. `conv1.weight`.
    pub name: String,
    pub value: Tensor,
    pub grad: Tensor,
    /// A frozen parameter enters graphs as a constant (transfer learning).
    pub frozen: bool,
    node: Cell<Option<(usize, Var)>>,
}

impl Param {
    pub fn new(name: impl Into<String>, value: Tensor) -> Self {
        let grad = zeros(value.shape());
        Param {
            name: name.into(),
            value,
            grad,
            frozen: false,
            node: Cell::new(None),
        }
    }

    /// This parameter as a node of `g`.
    pub fn var(&self, g: &mut Graph) -> Var {
        if let Some((graph_id, var)) = self.node.get() {
            if graph_id == g.id() {
                return var;
            }
        }
        let value = g.buffers().copy(&self.value);
        let var = if self.frozen {
            g.constant(value)
        } else {
            g.variable(value)
        };
        self.node.set(Some((g.id(), var)));
        var
    }

    /// Add this parameter's gradient from the last backward pass of `g`.
    pub fn collect_grad(&mut self, g: &Graph) {
        if let Some((graph_id, var)) = self.node.get() {
            if graph_id == g.id() {
                if let Some(grad) = g.grad(var) {
                    self.grad += grad;
                }
            }
        }
    }

    pub fn zero_grad(&mut self) {
        self.grad.fill(0.0);
    }

    pub fn len(&self) -> usize {
        self.value.len()
    }

    pub fn is_empty(&self) -> bool {
        self.value.is_empty()
    }
}

/// Anything with parameters. Order is fixed: optimizers keep their state by
/// position, and files store tensors by name.
pub trait Module {
    fn params(&self) -> Vec<&Param>;
    fn params_mut(&mut self) -> Vec<&mut Param>;

    /// Gather every parameter's gradient from `g` after `g.backward(..)`.
    fn collect_grads(&mut self, g: &Graph) {
        for p in self.params_mut() {
            p.collect_grad(g);
        }
    }

    fn zero_grad(&mut self) {
        for p in self.params_mut() {
            p.zero_grad();
        }
    }

    /// Number of scalar parameters.
    fn num_params(&self) -> usize {
        self.params().iter().map(|p| p.len()).sum()
    }
}
