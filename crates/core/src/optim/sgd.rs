//! `torch.optim.SGD` (dampening 0, no Nesterov):
//!   g = grad + weight_decay * p;  v = momentum * v + g;  p -= lr * v

use super::ensure_state;
use crate::layers::Param;
use crate::Tensor;
use alloc::vec::Vec;

#[derive(Debug, Clone)]
pub struct Sgd {
    pub lr: f32,
    pub momentum: f32,
    pub weight_decay: f32,
    velocity: Vec<Tensor>,
}

impl Sgd {
    pub fn new(lr: f32, momentum: f32, weight_decay: f32) -> Self {
        Sgd {
            lr,
            momentum,
            weight_decay,
            velocity: Vec::new(),
        }
    }

    pub fn step(&mut self, params: &mut [&mut Param]) {
        ensure_state(&mut self.velocity, params);
        let (lr, momentum, wd) = (self.lr, self.momentum, self.weight_decay);
        for (p, v) in params.iter_mut().zip(&mut self.velocity) {
            if p.frozen {
                continue;
            }
            let Param { value, grad, .. } = &mut **p;
            ndarray::Zip::from(value).and(&*grad).and(v).for_each(|w, &g, v| {
                let g = g + wd * *w;
                *v = momentum * *v + g;
                *w -= lr * *v;
            });
        }
    }
}
