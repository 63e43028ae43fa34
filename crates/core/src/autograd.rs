//! Reverse-mode automatic differentiation on a tape.
//!
//! A [`Graph`] records every op of one forward pass as a node: its value, its
//! parents, and a closure that maps the gradient of its output to gradients of
//! its parents. Nodes are pushed in the order they are computed, so walking the
//! tape backwards visits every node after all of its consumers: that is the
//! whole of backpropagation. A node is a whole tensor op (never a scalar), so
//! a training step has tens to hundreds of nodes.
//!
//! Each op lives in `ops/` with its forward and its backward side by side
//! (like micrograd's `_backward`). A training loop keeps one graph and calls
//! [`Graph::reset`] before each step: the tape starts empty again, and the
//! last step's buffers are handed to this step's ops ([`Buffers`]).

pub use crate::buffers::Buffers;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

/// A handle to a node of a [`Graph`]. Cheap to copy; only meaningful for the
/// graph that made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Var(pub(crate) usize);

/// What a backward closure is given.
pub struct BackwardArgs<'a> {
    /// Gradient of the final scalar with respect to this node's output.
    pub grad: &'a Tensor,
    /// Values of the parents, in the order they were passed to the op.
    pub inputs: &'a [&'a Tensor],
    /// This node's own output value.
    pub output: &'a Tensor,
    /// Which parents need a gradient; a closure may skip the others (return None).
    pub needs_grad: &'a [bool],
    /// What the op saved for its backward pass ([`Graph::push_op_saving`]).
    pub saved: &'a [f32],
    /// Recycled buffers for the gradients and any scratch.
    pub buffers: &'a Buffers,
}

/// Maps the output gradient to one optional gradient per parent.
pub type BackwardFn = Box<dyn Fn(&BackwardArgs) -> Vec<Option<Tensor>>>;

struct Node {
    value: Tensor,
    parents: Vec<Var>,
    backward: Option<BackwardFn>,
    requires_grad: bool,
    /// A buffer the backward pass reads (conv's unrolled columns).
    saved: Vec<f32>,
}

static NEXT_GRAPH_ID: AtomicUsize = AtomicUsize::new(1);

/// The tape of one forward pass.
pub struct Graph {
    id: usize,
    nodes: Vec<Node>,
    grads: Vec<Option<Tensor>>,
    /// False for an inference graph ([`Graph::no_grad`]).
    grad_enabled: bool,
    buffers: Buffers,
}

impl Default for Graph {
    fn default() -> Self {
        Self::new()
    }
}

impl Graph {
    pub fn new() -> Self {
        Graph {
            id: NEXT_GRAPH_ID.fetch_add(1, Ordering::Relaxed),
            nodes: Vec::new(),
            grads: Vec::new(),
            grad_enabled: true,
            buffers: Buffers::default(),
        }
    }

    /// A graph for inference only, like PyTorch's `torch.no_grad()`:
    /// [`Graph::variable`] records a constant here, so no op keeps what only
    /// a backward pass needs (conv's unrolled columns: 40 MB at batch 256)
    /// and no backward closure is stored.
    pub fn no_grad() -> Self {
        Graph {
            grad_enabled: false,
            ..Graph::new()
        }
    }

    /// Identifies this graph, so a [`crate::Param`] can tell whether the
    /// node it remembers belongs to it.
    pub fn id(&self) -> usize {
        self.id
    }

    /// Empty the tape for the next step and keep its buffers: every node's
    /// value, gradient and saved buffer goes to [`Graph::buffers`] for the
    /// next step's ops. The graph gets a new id, so parameters put on the old
    /// tape ([`crate::Param::var`]) are put on again.
    pub fn reset(&mut self) {
        let mut returned = Vec::with_capacity(2 * self.nodes.len());
        for node in self.nodes.drain(..) {
            returned.push(node.value.into_raw_vec_and_offset().0);
            returned.push(node.saved);
        }
        returned.extend(self.grads.drain(..).flatten().map(|g| g.into_raw_vec_and_offset().0));
        self.buffers.recycle(returned);
        self.id = NEXT_GRAPH_ID.fetch_add(1, Ordering::Relaxed);
    }

    /// Recycled buffers for ops to build their outputs in.
    pub fn buffers(&self) -> &Buffers {
        &self.buffers
    }

    /// A value that needs no gradient (data, labels' one-hots, masks).
    pub fn constant(&mut self, value: Tensor) -> Var {
        self.push_leaf(value, false)
    }

    /// A leaf whose gradient is wanted (an input under test, a parameter).
    pub fn variable(&mut self, value: Tensor) -> Var {
        self.push_leaf(value, self.grad_enabled)
    }

    fn push_leaf(&mut self, value: Tensor, requires_grad: bool) -> Var {
        self.nodes.push(Node {
            value,
            parents: Vec::new(),
            backward: None,
            requires_grad,
            saved: Vec::new(),
        });
        Var(self.nodes.len() - 1)
    }

    /// Record an op: its parents, its output value, and how to differentiate it.
    /// The output needs a gradient if any parent does; otherwise the closure is
    /// dropped at once.
    pub fn push_op(&mut self, parents: &[Var], value: Tensor, backward: BackwardFn) -> Var {
        self.push_op_saving(parents, value, Vec::new(), backward)
    }

    /// [`Graph::push_op`] with a buffer for the backward pass to read
    /// (`args.saved`), owned by the graph so that [`Graph::reset`] recycles it.
    pub fn push_op_saving(&mut self, parents: &[Var], value: Tensor, saved: Vec<f32>, backward: BackwardFn) -> Var {
        let requires_grad = parents.iter().any(|p| self.nodes[p.0].requires_grad);
        let (backward, saved) = if requires_grad {
            (Some(backward), saved)
        } else {
            self.buffers.give(saved);
            (None, Vec::new())
        };
        self.nodes.push(Node {
            value,
            parents: parents.to_vec(),
            backward,
            requires_grad,
            saved,
        });
        Var(self.nodes.len() - 1)
    }

    /// Record an op defined outside the crate (or a deliberately broken one in
    /// a test). Same contract as the built-in ops.
    pub fn custom(
        &mut self,
        parents: &[Var],
        value: Tensor,
        backward: impl Fn(&BackwardArgs) -> Vec<Option<Tensor>> + 'static,
    ) -> Var {
        self.push_op(parents, value, Box::new(backward))
    }

    pub fn value(&self, v: Var) -> &Tensor {
        &self.nodes[v.0].value
    }

    pub fn shape(&self, v: Var) -> &[usize] {
        self.nodes[v.0].value.shape()
    }

    pub fn requires_grad(&self, v: Var) -> bool {
        self.nodes[v.0].requires_grad
    }

    /// The gradient computed by the last `backward`, if the node got one.
    pub fn grad(&self, v: Var) -> Option<&Tensor> {
        self.grads.get(v.0).and_then(|g| g.as_ref())
    }

    /// Number of nodes recorded so far.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Backpropagate from a scalar (a loss).
    pub fn backward(&mut self, loss: Var) -> Result<()> {
        let shape = self.shape(loss).to_vec();
        if shape.iter().product::<usize>() != 1 {
            return Err(Error::shape(
                "backward",
                "backward() needs a single-element loss; use backward_with for a tensor",
                &shape,
                &[],
            ));
        }
        let seed = Tensor::from_elem(self.value(loss).raw_dim(), 1.0);
        self.backward_with(loss, seed)
    }

    /// Backpropagate a given output gradient: computes the gradient of
    /// `sum(output * grad_output)` with respect to every node that needs one.
    pub fn backward_with(&mut self, output: Var, grad_output: Tensor) -> Result<()> {
        if grad_output.shape() != self.shape(output) {
            return Err(Error::shape(
                "backward",
                "grad_output vs output",
                grad_output.shape(),
                self.shape(output),
            ));
        }
        for old in self.grads.drain(..).flatten() {
            self.buffers.give_tensor(old);
        }
        self.grads = (0..self.nodes.len()).map(|_| None).collect();
        self.grads[output.0] = Some(grad_output);
        for i in (0..=output.0).rev() {
            let Some(grad) = self.grads[i].take() else {
                continue;
            };
            let node = &self.nodes[i];
            if let Some(backward) = &node.backward {
                let inputs: Vec<&Tensor> = node.parents.iter().map(|p| &self.nodes[p.0].value).collect();
                let needs_grad: Vec<bool> = node.parents.iter().map(|p| self.nodes[p.0].requires_grad).collect();
                let parent_grads = backward(&BackwardArgs {
                    grad: &grad,
                    inputs: &inputs,
                    output: &node.value,
                    needs_grad: &needs_grad,
                    saved: &node.saved,
                    buffers: &self.buffers,
                });
                debug_assert_eq!(parent_grads.len(), node.parents.len());
                for (parent, parent_grad) in node.parents.iter().zip(parent_grads) {
                    let Some(parent_grad) = parent_grad else { continue };
                    if !self.nodes[parent.0].requires_grad {
                        continue;
                    }
                    debug_assert_eq!(parent_grad.shape(), self.nodes[parent.0].value.shape());
                    match &mut self.grads[parent.0] {
                        Some(existing) => {
                            *existing += &parent_grad;
                            self.buffers.give_tensor(parent_grad);
                        }
                        slot @ None => *slot = Some(parent_grad),
                    }
                }
            }
            // Every node keeps its gradient: leaves for the optimizer, inner
            // nodes for the visualisations (gradient norm per time step).
            self.grads[i] = Some(grad);
        }
        Ok(())
    }
}
