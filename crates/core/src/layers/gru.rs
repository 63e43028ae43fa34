//! Gated recurrent unit, `torch.nn.GRU`, one layer, with PyTorch's equations
//! and gate order (r, z, n) in the stacked weights:
//!
//!   r_t = sigmoid(W_ir x_t + b_ir + W_hr h_{t-1} + b_hr)        reset gate
//!   z_t = sigmoid(W_iz x_t + b_iz + W_hz h_{t-1} + b_hz)        update gate
//!   n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))   candidate
//!   h_t = (1 - z_t) * n_t + z_t * h_{t-1}
//!
//! The update gate lets h_t copy h_{t-1} almost unchanged (z near 1), which
//! is the path along which gradients survive many steps. Built from graph ops
//! per time step, like the RNN; the gates are returned so they can be drawn.

use super::rnn::{check_recurrent_shapes, recurrent_params, stack_time, step_input, zero_state, RnnConfig, RnnOutput};
use super::{Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::Result;
use crate::rng::Rng;
use alloc::vec;
use alloc::vec::Vec;

/// The RNN outputs plus each step's gates, [N, H] each.
pub struct GruOutput {
    pub rnn: RnnOutput,
    pub reset_gates: Vec<Var>,
    pub update_gates: Vec<Var>,
}

impl Graph {
    /// Functional GRU; see the module docs. w_ih [3H, I], w_hh [3H, H], biases [3H].
    pub fn gru(&mut self, x: Var, h0: Var, w_ih: Var, w_hh: Var, b_ih: Var, b_hh: Var) -> Result<GruOutput> {
        let (steps, n, h) = check_recurrent_shapes(self, "gru", 3, x, h0, [w_ih, w_hh, b_ih, b_hh])?;
        let (mut hidden, mut reset_gates, mut update_gates) = (Vec::new(), Vec::new(), Vec::new());
        let mut state = h0;
        for t in 0..steps {
            let gi = step_input(self, x, t, w_ih, b_ih)?; // [N, 3H]
            let gh = self.linear(state, w_hh, Some(b_hh))?; // [N, 3H]
            let part = |g: &mut Graph, v: Var, k: usize| g.narrow(v, 1, k * h, h);
            let (i_r, i_z, i_n) = (part(self, gi, 0)?, part(self, gi, 1)?, part(self, gi, 2)?);
            let (h_r, h_z, h_n) = (part(self, gh, 0)?, part(self, gh, 1)?, part(self, gh, 2)?);
            let pre_r = self.add(i_r, h_r)?;
            let reset = self.sigmoid(pre_r);
            let pre_z = self.add(i_z, h_z)?;
            let update = self.sigmoid(pre_z);
            let gated = self.mul(reset, h_n)?;
            let pre_n = self.add(i_n, gated)?;
            let candidate = self.tanh(pre_n);
            // (1 - z) n + z h  ==  n + z (h - n)
            let keep = self.sub(state, candidate)?;
            let kept = self.mul(update, keep)?;
            state = self.add(candidate, kept)?;
            hidden.push(state);
            reset_gates.push(reset);
            update_gates.push(update);
        }
        let outputs = stack_time(self, &hidden, n, h)?;
        Ok(GruOutput {
            rnn: RnnOutput { outputs, hidden },
            reset_gates,
            update_gates,
        })
    }
}

/// A GRU's sizes are an RNN's: `input_size`, `hidden_size`.
pub type GruConfig = RnnConfig;

/// A one-layer GRU with PyTorch's parameter names (`weight_ih_l0`, ...) and
/// initialisation U(-1/sqrt(H), 1/sqrt(H)).
#[derive(Debug, Clone)]
pub struct Gru {
    pub weight_ih: Param,
    pub weight_hh: Param,
    pub bias_ih: Param,
    pub bias_hh: Param,
    pub hidden_size: usize,
}

impl Gru {
    pub fn new(name: &str, config: GruConfig, rng: &mut Rng) -> Self {
        let [weight_ih, weight_hh, bias_ih, bias_hh] = recurrent_params(name, config, 3, rng);
        Gru {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
            hidden_size: config.hidden_size,
        }
    }

    /// x [T, N, I]; h0 defaults to zeros.
    pub fn forward(&self, g: &mut Graph, x: Var, h0: Option<Var>) -> Result<GruOutput> {
        let h0 = h0.unwrap_or_else(|| zero_state(g, x, self.hidden_size));
        let [w_ih, w_hh, b_ih, b_hh] =
            [&self.weight_ih, &self.weight_hh, &self.bias_ih, &self.bias_hh].map(|p| p.var(g));
        g.gru(x, h0, w_ih, w_hh, b_ih, b_hh)
    }
}

impl Module for Gru {
    fn params(&self) -> Vec<&Param> {
        vec![&self.weight_ih, &self.weight_hh, &self.bias_ih, &self.bias_hh]
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![
            &mut self.weight_ih,
            &mut self.weight_hh,
            &mut self.bias_ih,
            &mut self.bias_hh,
        ]
    }
}
