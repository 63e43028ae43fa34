//! `torch.optim.Adam` and `torch.optim.AdamW`:
//!   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//!   p -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
//! Adam adds weight decay to the gradient (L2); AdamW decays the weights
//! directly (p -= lr * wd * p), decoupled from the adaptive scaling.

use super::ensure_state;
use crate::layers::Param;
use crate::Tensor;
use alloc::vec::Vec;

#[derive(Debug, Clone)]
pub struct Adam {
    pub lr: f32,
    pub beta1: f32,
    pub beta2: f32,
    pub eps: f32,
    pub weight_decay: f32,
    pub decoupled: bool,
    t: i32,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
}

impl Adam {
    pub fn new(lr: f32) -> Self {
        Adam {
            lr,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
            t: 0,
            m: Vec::new(),
            v: Vec::new(),
        }
    }

    pub fn adamw(lr: f32, weight_decay: f32) -> Self {
        Adam {
            weight_decay,
            decoupled: true,
            ..Adam::new(lr)
        }
    }

    pub fn step(&mut self, params: &mut [&mut Param]) {
        ensure_state(&mut self.m, params);
        ensure_state(&mut self.v, params);
        self.t += 1;
        let (b1, b2, eps, lr, wd) = (self.beta1, self.beta2, self.eps, self.lr, self.weight_decay);
        let bias1 = 1.0 - libm::powf(b1, self.t as f32);
        let bias2 = 1.0 - libm::powf(b2, self.t as f32);
        let decoupled = self.decoupled;
        for ((p, m), v) in params.iter_mut().zip(&mut self.m).zip(&mut self.v) {
            if p.frozen {
                continue;
            }
            let Param { value, grad, .. } = &mut **p;
            ndarray::Zip::from(value)
                .and(&*grad)
                .and(m)
                .and(v)
                .for_each(|w, &g, m, v| {
                    let g = if decoupled {
                        *w -= lr * wd * *w;
                        g
                    } else {
                        g + wd * *w
                    };
                    *m = b1 * *m + (1.0 - b1) * g;
                    *v = b2 * *v + (1.0 - b2) * g * g;
                    *w -= lr * (*m / bias1) / (libm::sqrtf(*v / bias2) + eps);
                });
        }
    }
}
