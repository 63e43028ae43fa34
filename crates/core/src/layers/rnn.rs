//! Vanilla (Elman) RNN, `torch.nn.RNN(nonlinearity='tanh')`, one layer:
//!
//!   h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)
//!
//! Built from graph ops one time step at a time, so backpropagation through
//! time is ordinary backpropagation, and every hidden state is a node whose
//! gradient the Sequences lab can show (the vanishing gradient).

use super::{Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::init;
use crate::rng::Rng;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

/// Everything a recurrent forward pass produces.
pub struct RnnOutput {
    /// [T, N, H]
    pub outputs: Var,
    /// h_1 .. h_T, each [N, H]
    pub hidden: Vec<Var>,
}

/// Checks the shapes shared by the RNN, the GRU and the LSTM; `gates` is 1,
/// 3 or 4.
/// Returns (T, N, H).
pub(crate) fn check_recurrent_shapes(
    g: &Graph,
    op: &'static str,
    gates: usize,
    x: Var,
    h0: Var,
    [w_ih, w_hh, b_ih, b_hh]: [Var; 4],
) -> Result<(usize, usize, usize)> {
    let (xs, hs) = (g.shape(x), g.shape(h0));
    if xs.len() != 3 || hs.len() != 2 || xs[1] != hs[0] {
        return Err(Error::shape(op, "x [T, N, I] vs h0 [N, H]", xs, hs));
    }
    let (t, n, i, h) = (xs[0], xs[1], xs[2], hs[1]);
    let expected: [(&str, Var, Vec<usize>); 4] = [
        ("w_ih", w_ih, vec![gates * h, i]),
        ("w_hh", w_hh, vec![gates * h, h]),
        ("b_ih", b_ih, vec![gates * h]),
        ("b_hh", b_hh, vec![gates * h]),
    ];
    for (name, v, shape) in expected {
        if g.shape(v) != shape.as_slice() {
            return Err(Error::shape(
                op,
                format!("{name} has the wrong shape for x {xs:?} and h0 {hs:?}; expected vs got"),
                &shape,
                g.shape(v),
            ));
        }
    }
    if t == 0 {
        return Err(Error::invalid(op, "the sequence is empty (T = 0)"));
    }
    Ok((t, n, h))
}

/// Step t's input-to-hidden product, `x[t] w_ih^T + b_ih`: [N, gates*H].
///
/// Each step projects its own slice of the input. Projecting the whole
/// sequence in one GEMM and slicing the result looks cheaper but is not:
/// the slice's gradient is a zero tensor of the whole [T, N, gates*H]
/// with one step filled in, so a backward pass allocated, zeroed and added
/// T whole-sequence tensors (at T 40, N 32, H 32: 25 MB a step for the
/// LSTM, which its graph then kept for reuse). The input itself is data
/// (no gradient), so slicing it costs nothing in the backward pass.
pub(crate) fn step_input(g: &mut Graph, x: Var, t: usize, w_ih: Var, b_ih: Var) -> Result<Var> {
    let shape = g.shape(x).to_vec();
    let slice = g.narrow(x, 0, t, 1)?;
    let x_t = g.reshape(slice, &[shape[1], shape[2]])?;
    g.linear(x_t, w_ih, Some(b_ih))
}

/// The four tensors of a one-layer recurrent layer with `gates` stacked
/// gates, PyTorch's names (`{name}.weight_ih_l0`, ...) and initialisation
/// U(-1/sqrt(H), 1/sqrt(H)), drawn in PyTorch's order: w_ih, w_hh, b_ih,
/// b_hh. Shared by the RNN (1 gate), the GRU (3) and the LSTM (4).
pub(crate) fn recurrent_params(name: &str, config: RnnConfig, gates: usize, rng: &mut Rng) -> [Param; 4] {
    let RnnConfig {
        input_size,
        hidden_size,
    } = config;
    let bound = 1.0 / libm::sqrtf(hidden_size.max(1) as f32);
    let mut p =
        |suffix: &str, shape: &[usize]| Param::new(format!("{name}.{suffix}_l0"), init::uniform(shape, bound, rng));
    let rows = gates * hidden_size;
    [
        p("weight_ih", &[rows, input_size]),
        p("weight_hh", &[rows, hidden_size]),
        p("bias_ih", &[rows]),
        p("bias_hh", &[rows]),
    ]
}

/// A zero state [N, H] for `x` [T, N, I]: what a layer starts from when
/// given none.
pub(crate) fn zero_state(g: &mut Graph, x: Var, hidden_size: usize) -> Var {
    let n = g.shape(x).get(1).copied().unwrap_or(0);
    g.constant(crate::tensor::zeros(&[n, hidden_size]))
}

/// Stack [N, H] states into [T, N, H].
pub(crate) fn stack_time(g: &mut Graph, states: &[Var], n: usize, h: usize) -> Result<Var> {
    let mut framed = Vec::with_capacity(states.len());
    for &s in states {
        framed.push(g.reshape(s, &[1, n, h])?);
    }
    g.concat(&framed, 0)
}

impl Graph {
    /// Functional tanh RNN; see the module docs.
    pub fn rnn_tanh(&mut self, x: Var, h0: Var, w_ih: Var, w_hh: Var, b_ih: Var, b_hh: Var) -> Result<RnnOutput> {
        let (steps, n, h) = check_recurrent_shapes(self, "rnn_tanh", 1, x, h0, [w_ih, w_hh, b_ih, b_hh])?;
        let mut hidden = Vec::with_capacity(steps);
        let mut state = h0;
        for t in 0..steps {
            let from_input = step_input(self, x, t, w_ih, b_ih)?;
            let from_state = self.linear(state, w_hh, Some(b_hh))?;
            let pre = self.add(from_input, from_state)?;
            state = self.tanh(pre);
            hidden.push(state);
        }
        let outputs = stack_time(self, &hidden, n, h)?;
        Ok(RnnOutput { outputs, hidden })
    }
}

/// The sizes of a one-layer [`Rnn`], [`super::Gru`] or [`super::Lstm`], named
/// as `torch.nn.RNN`'s, `torch.nn.GRU`'s and `torch.nn.LSTM`'s arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RnnConfig {
    pub input_size: usize,
    pub hidden_size: usize,
}

/// A one-layer tanh RNN with PyTorch's parameter names and initialisation
/// (U(-1/sqrt(H), 1/sqrt(H)) for all four tensors).
#[derive(Debug, Clone)]
pub struct Rnn {
    pub weight_ih: Param,
    pub weight_hh: Param,
    pub bias_ih: Param,
    pub bias_hh: Param,
    pub hidden_size: usize,
}

impl Rnn {
    pub fn new(name: &str, config: RnnConfig, rng: &mut Rng) -> Self {
        let [weight_ih, weight_hh, bias_ih, bias_hh] = recurrent_params(name, config, 1, rng);
        Rnn {
            weight_ih,
            weight_hh,
            bias_ih,
            bias_hh,
            hidden_size: config.hidden_size,
        }
    }

    /// x [T, N, I]; h0 defaults to zeros.
    pub fn forward(&self, g: &mut Graph, x: Var, h0: Option<Var>) -> Result<RnnOutput> {
        let h0 = h0.unwrap_or_else(|| zero_state(g, x, self.hidden_size));
        let [w_ih, w_hh, b_ih, b_hh] =
            [&self.weight_ih, &self.weight_hh, &self.bias_ih, &self.bias_hh].map(|p| p.var(g));
        g.rnn_tanh(x, h0, w_ih, w_hh, b_ih, b_hh)
    }
}

impl Module for Rnn {
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
