//! Optimizers with PyTorch's update rules, and gradient clipping.
//! State (momentum, moments) is kept per parameter by position, so pass the
//! parameters in the same order every step (`Module::params_mut` does).

mod adam;
mod clip;
mod sgd;

pub use adam::Adam;
pub use clip::clip_grad_norm;
pub use sgd::Sgd;

use crate::layers::Param;

/// One of the optimizers, chosen at run time (the labs let the visitor pick).
#[derive(Debug, Clone)]
pub enum Optimizer {
    Sgd(Sgd),
    Adam(Adam),
}

impl Optimizer {
    pub fn sgd(lr: f32, momentum: f32, weight_decay: f32) -> Self {
        Optimizer::Sgd(Sgd::new(lr, momentum, weight_decay))
    }

    pub fn adam(lr: f32) -> Self {
        Optimizer::Adam(Adam::new(lr))
    }

    /// AdamW: Adam with decoupled weight decay.
    pub fn adamw(lr: f32, weight_decay: f32) -> Self {
        Optimizer::Adam(Adam::adamw(lr, weight_decay))
    }

    pub fn lr(&self) -> f32 {
        match self {
            Optimizer::Sgd(o) => o.lr,
            Optimizer::Adam(o) => o.lr,
        }
    }

    pub fn set_lr(&mut self, lr: f32) {
        match self {
            Optimizer::Sgd(o) => o.lr = lr,
            Optimizer::Adam(o) => o.lr = lr,
        }
    }

    /// Update every unfrozen parameter from its gradient, then zero the gradients.
    pub fn step(&mut self, params: &mut [&mut Param]) {
        match self {
            Optimizer::Sgd(o) => o.step(params),
            Optimizer::Adam(o) => o.step(params),
        }
        for p in params.iter_mut() {
            p.zero_grad();
        }
    }
}

/// Per-parameter state buffers, created lazily with the parameters' shapes.
pub(crate) fn ensure_state(state: &mut alloc::vec::Vec<crate::Tensor>, params: &[&mut Param]) {
    if state.len() != params.len() || state.iter().zip(params).any(|(s, p)| s.shape() != p.value.shape()) {
        *state = params.iter().map(|p| crate::tensor::zeros(p.value.shape())).collect();
    }
}
