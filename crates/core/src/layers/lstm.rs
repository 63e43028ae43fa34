//! Long short-term memory, `torch.nn.LSTM`, one layer, with PyTorch's
//! equations and gate order (i, f, g, o) in the stacked weights:
//!
//!   i_t = sigmoid(W_ii x_t + b_ii + W_hi h_{t-1} + b_hi)   input gate
//!   f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)   forget gate
//!   g_t = tanh(W_ig x_t + b_ig + W_hg h_{t-1} + b_hg)      candidate cell
//!   o_t = sigmoid(W_io x_t + b_io + W_ho h_{t-1} + b_ho)   output gate
//!   c_t = f_t * c_{t-1} + i_t * g_t
//!   h_t = o_t * tanh(c_t)
//!
//! The cell path is additive, dc_t/dc_{t-1} = f_t elementwise with no weight
//! matrix and no squashing in between, so while the forget gate stays near 1
//! gradients flow back through many steps almost undiminished. Built from
//! graph ops per time step, like the RNN and the GRU; the cells and gates are
//! returned so they can be drawn.

use super::rnn::{check_recurrent_shapes, recurrent_params, stack_time, step_input, zero_state, RnnConfig, RnnOutput};
use super::{Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::rng::Rng;
use alloc::vec;
use alloc::vec::Vec;

/// The RNN outputs plus each step's cell state and gates, [N, H] each.
pub struct LstmOutput {
    pub rnn: RnnOutput,
    /// c_1 .. c_T
    pub cells: Vec<Var>,
    pub input_gates: Vec<Var>,
    pub forget_gates: Vec<Var>,
    pub output_gates: Vec<Var>,
}

impl Graph {
    /// Functional LSTM; see the module docs. c0 has h0's shape [N, H];
    /// w_ih [4H, I], w_hh [4H, H], biases [4H].
    #[allow(clippy::too_many_arguments)]
    pub fn lstm(&mut self, x: Var, h0: Var, c0: Var, w_ih: Var, w_hh: Var, b_ih: Var, b_hh: Var) -> Result<LstmOutput> {
        let (steps, n, h) = check_recurrent_shapes(self, "lstm", 4, x, h0, [w_ih, w_hh, b_ih, b_hh])?;
        if self.shape(c0) != self.shape(h0) {
            return Err(Error::shape(
                "lstm",
                "c0 must have h0's shape [N, H]; c0 vs h0",
                self.shape(c0),
                self.shape(h0),
            ));
        }
        let (mut hidden, mut cells) = (Vec::new(), Vec::new());
        let (mut input_gates, mut forget_gates, mut output_gates) = (Vec::new(), Vec::new(), Vec::new());
        let (mut state, mut cell) = (h0, c0);
        for t in 0..steps {
            let gi = step_input(self, x, t, w_ih, b_ih)?; // [N, 4H]
            let gh = self.linear(state, w_hh, Some(b_hh))?; // [N, 4H]
            let pre = self.add(gi, gh)?;
            let part = |g: &mut Graph, k: usize| g.narrow(pre, 1, k * h, h);
            let (pre_i, pre_f, pre_g, pre_o) = (part(self, 0)?, part(self, 1)?, part(self, 2)?, part(self, 3)?);
            let input = self.sigmoid(pre_i);
            let forget = self.sigmoid(pre_f);
            let candidate = self.tanh(pre_g);
            let output = self.sigmoid(pre_o);
            let kept = self.mul(forget, cell)?;
            let written = self.mul(input, candidate)?;
            cell = self.add(kept, written)?;
            let squashed = self.tanh(cell);
            state = self.mul(output, squashed)?;
            hidden.push(state);
            cells.push(cell);
            input_gates.push(input);
            forget_gates.push(forget);
            output_gates.push(output);
        }
        let outputs = stack_time(self, &hidden, n, h)?;
        Ok(LstmOutput {
            rnn: RnnOutput { outputs, hidden },
            cells,
            input_gates,
            forget_gates,
            output_gates,
        })
    }
}

/// An LSTM's sizes are an RNN's: `input_size`, `hidden_size`.
pub type LstmConfig = RnnConfig;

/// A one-layer LSTM with PyTorch's parameter names (`weight_ih_l0`, ...) and
/// initialisation U(-1/sqrt(H), 1/sqrt(H)).
#[derive(Debug, Clone)]
pub struct Lstm {
    pub weight_ih: Param,
    pub weight_hh: Param,
    pub bias_ih: Param,
    pub bias_hh: Param,
    pub hidden_size: usize,
}

impl Lstm {
    pub fn new(name: &str, config: LstmConfig, rng: &mut Rng) -> Self {
        let [weight_ih, weight_hh, bias_ih, bias_hh] = recurrent_params(name, config, 4, rng);
        Lstm {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
            hidden_size: config.hidden_size,
        }
    }

    /// x [T, N, I]; the state (h0, c0) defaults to zeros.
    pub fn forward(&self, g: &mut Graph, x: Var, state: Option<(Var, Var)>) -> Result<LstmOutput> {
        let (h0, c0) = match state {
            Some(state) => state,
            None => {
                let h0 = zero_state(g, x, self.hidden_size);
                let c0 = zero_state(g, x, self.hidden_size);
                (h0, c0)
            }
        };
        let [w_ih, w_hh, b_ih, b_hh] =
            [&self.weight_ih, &self.weight_hh, &self.bias_ih, &self.bias_hh].map(|p| p.var(g));
        g.lstm(x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    }
}

impl Module for Lstm {
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
