//! Gradient checking: analytic gradients from the tape against central finite
//! differences, for every op of the crate.
//!
//! The checked function is f(inputs) = sum(op(inputs) * R) with R a fixed
//! random tensor, so every element of the output's gradient matters. f is
//! accumulated in f64: outputs that a perturbation does not touch are
//! bit-identical in both evaluations and cancel exactly, so the f32 rounding
//! of the op itself is all the noise there is.
//!
//! [`op_cases`] lists one case per op with random shapes and values from the
//! seeded RNG; [`check_all_ops`] runs them (natively and, from the tests crate,
//! in the browser); [`check_all_ops_catch_corruption`] proves that each check
//! fails when that op's backward is wrong.

use crate::autograd::{Graph, Var};
use crate::error::Result;
use crate::layers::{AttentionParams, PackedAttentionParams};
use crate::ops::{Conv2dSpec, PoolSpec};
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::IxDyn;

/// Builds the op under test from its (float) inputs.
pub type BuildFn = Box<dyn Fn(&mut Graph, &[Var]) -> Result<Var>>;

/// One op under test: its inputs and how to apply it.
pub struct Case {
    pub name: &'static str,
    pub inputs: Vec<Tensor>,
    pub build: BuildFn,
}

/// How a deliberately broken backward corrupts the gradient of each input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Corruption {
    None,
    /// Every gradient element 10% too large (a wrong constant factor).
    Scale,
    /// Gradient elements shifted by one position, the last one lost (an
    /// off-by-one indexing bug).
    Shift,
}

/// The largest disagreement found.
#[derive(Debug, Clone, Copy)]
pub struct Report {
    pub max_abs_error: f64,
    pub elements: usize,
}

const EPS: f32 = 1e-2;
const ATOL: f64 = 2e-3;
const RTOL: f64 = 1e-2;
const NORM_ATOL: f64 = 5e-4;

fn weighted_sum(out: &Tensor, weights: &Tensor) -> f64 {
    out.iter().zip(weights.iter()).map(|(&o, &w)| o as f64 * w as f64).sum()
}

/// An identity node whose backward corrupts the gradient as asked.
fn corrupt(g: &mut Graph, x: Var, how: Corruption) -> Var {
    if how == Corruption::None {
        return x;
    }
    let value = g.value(x).clone();
    g.custom(&[x], value, move |args| {
        let grad = match how {
            Corruption::Scale => args.grad * 1.1,
            _ => {
                let data: Vec<f32> = args.grad.iter().copied().collect();
                let n = data.len();
                Tensor::from_shape_fn(args.grad.raw_dim(), |_| 0.0)
                    .into_shape_with_order(IxDyn(&[n]))
                    .map(|mut flat| {
                        for (i, v) in flat.iter_mut().enumerate() {
                            *v = data.get(i + 1).copied().unwrap_or(0.0);
                        }
                        flat
                    })
                    .expect("flat")
                    .into_shape_with_order(args.grad.raw_dim())
                    .expect("same count")
            }
        };
        vec![Some(grad)]
    })
}

/// Check one case; `Err` names the first element whose gradients disagree.
pub fn check(case: &Case, how: Corruption, seed: u64) -> core::result::Result<Report, String> {
    let fail = |e: crate::Error| format!("{}: {e}", case.name);
    let mut g = Graph::new();
    let leaves: Vec<Var> = case.inputs.iter().map(|t| g.variable(t.clone())).collect();
    let vars: Vec<Var> = leaves.iter().map(|&v| corrupt(&mut g, v, how)).collect();
    let out = (case.build)(&mut g, &vars).map_err(fail)?;
    let mut rng = Rng::new(seed);
    // Weights bounded away from zero, so no output's gradient vanishes by chance.
    let weights = Tensor::from_shape_simple_fn(g.value(out).raw_dim(), || {
        let w = 0.5 + rng.uniform();
        if rng.uniform() < 0.5 {
            -w
        } else {
            w
        }
    });
    g.backward_with(out, weights.clone()).map_err(fail)?;

    let eval = |inputs: &[Tensor]| -> core::result::Result<f64, String> {
        let mut g = Graph::new();
        let vars: Vec<Var> = inputs.iter().map(|t| g.variable(t.clone())).collect();
        let out = (case.build)(&mut g, &vars).map_err(fail)?;
        Ok(weighted_sum(g.value(out), &weights))
    };
    let mut report = Report {
        max_abs_error: 0.0,
        elements: 0,
    };
    let mut inputs = case.inputs.clone();
    for (k, &leaf) in leaves.iter().enumerate() {
        let analytic: Vec<f32> = match g.grad(leaf) {
            Some(t) => t.iter().copied().collect(),
            None => vec![0.0; inputs[k].len()],
        };
        // Besides each element, the gradient as a whole must agree: small
        // gradients (a mean over many elements) are checked relative to
        // their norm, not to an absolute floor.
        let (mut diff_sq, mut numeric_sq) = (0.0f64, 0.0f64);
        for (j, &a) in analytic.iter().enumerate() {
            let original = inputs[k].as_slice().expect("standard layout")[j];
            inputs[k].as_slice_mut().expect("standard layout")[j] = original + EPS;
            let plus = eval(&inputs)?;
            inputs[k].as_slice_mut().expect("standard layout")[j] = original - EPS;
            let minus = eval(&inputs)?;
            inputs[k].as_slice_mut().expect("standard layout")[j] = original;
            let numeric = (plus - minus) / (2.0 * EPS as f64);
            let err = (a as f64 - numeric).abs();
            report.max_abs_error = report.max_abs_error.max(err);
            report.elements += 1;
            diff_sq += err * err;
            numeric_sq += numeric * numeric;
            if err > ATOL + RTOL * numeric.abs().max((a as f64).abs()) {
                return Err(format!(
                    "{}: input {k} element {j}: analytic {a:.6} vs numeric {numeric:.6}",
                    case.name
                ));
            }
        }
        let (diff, norm) = (libm::sqrt(diff_sq), libm::sqrt(numeric_sq));
        if diff > NORM_ATOL + RTOL * norm {
            return Err(format!(
                "{}: input {k}: gradient off by {diff:.2e} in norm (numeric gradient norm {norm:.2e})",
                case.name
            ));
        }
    }
    Ok(report)
}

fn randn(rng: &mut Rng, shape: &[usize], scale: f32) -> Tensor {
    Tensor::from_shape_simple_fn(IxDyn(shape), || scale * rng.normal())
}

/// Values at least 0.1 away from zero (relu's kink), half of them negative.
fn away_from_zero(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let mut values: Vec<f32> = (0..n)
        .map(|i| {
            if i % 2 == 0 {
                0.1 + rng.uniform()
            } else {
                -0.1 - rng.uniform()
            }
        })
        .collect();
    rng.shuffle(&mut values);
    Tensor::from_shape_vec(IxDyn(shape), values).expect("sized")
}

/// Distinct values 0.1 apart in random order, so no max-pool window is near a tie.
fn distinct(rng: &mut Rng, shape: &[usize]) -> Tensor {
    let n: usize = shape.iter().product();
    let mut values: Vec<f32> = (0..n).map(|i| i as f32 * 0.1 - n as f32 * 0.05).collect();
    rng.shuffle(&mut values);
    Tensor::from_shape_vec(IxDyn(shape), values).expect("sized")
}

fn dim(rng: &mut Rng, low: usize, high: usize) -> usize {
    low + rng.below(high - low + 1)
}

fn case(name: &'static str, inputs: Vec<Tensor>, build: impl Fn(&mut Graph, &[Var]) -> Result<Var> + 'static) -> Case {
    Case {
        name,
        inputs,
        build: Box::new(build),
    }
}

/// One case per op, shapes and values drawn from `seed`.
pub fn op_cases(seed: u64) -> Vec<Case> {
    let mut r = Rng::new(seed);
    let r = &mut r;
    let (a, b, c) = (dim(r, 1, 3), dim(r, 2, 4), dim(r, 2, 4));
    let mut cases = vec![
        case(
            "add",
            vec![randn(r, &[a, b, c], 1.0), randn(r, &[b, 1], 1.0)],
            |g, v| g.add(v[0], v[1]),
        ),
        case("sub", vec![randn(r, &[b, c], 1.0), randn(r, &[c], 1.0)], |g, v| {
            g.sub(v[0], v[1])
        }),
        case(
            "mul",
            vec![randn(r, &[a, b, c], 1.0), randn(r, &[1, c], 1.0)],
            |g, v| g.mul(v[0], v[1]),
        ),
        case(
            "div",
            vec![randn(r, &[b, c], 1.0), randn(r, &[b, c], 0.3).mapv(|x| x.abs() + 0.8)],
            |g, v| g.div(v[0], v[1]),
        ),
        case("scale", vec![randn(r, &[b, c], 1.0)], |g, v| Ok(g.scale(v[0], -1.7))),
        case("add_scalar", vec![randn(r, &[b, c], 1.0)], |g, v| {
            Ok(g.add_scalar(v[0], 0.3))
        }),
        case("exp", vec![randn(r, &[b, c], 0.7)], |g, v| Ok(g.exp(v[0]))),
        case("log", vec![randn(r, &[b, c], 0.3).mapv(|x| x.abs() + 0.5)], |g, v| {
            Ok(g.log(v[0]))
        }),
        case("square", vec![randn(r, &[b, c], 1.0)], |g, v| Ok(g.square(v[0]))),
        case("sqrt", vec![randn(r, &[b, c], 0.3).mapv(|x| x.abs() + 0.5)], |g, v| {
            Ok(g.sqrt(v[0]))
        }),
        case("relu", vec![away_from_zero(r, &[a, b, c])], |g, v| Ok(g.relu(v[0]))),
        case("tanh", vec![randn(r, &[a, b, c], 1.0)], |g, v| Ok(g.tanh(v[0]))),
        case("sigmoid", vec![randn(r, &[a, b, c], 1.5)], |g, v| Ok(g.sigmoid(v[0]))),
        case("gelu", vec![randn(r, &[a, b, c], 1.5)], |g, v| Ok(g.gelu(v[0]))),
        case("sum", vec![randn(r, &[b, c], 1.0)], |g, v| Ok(g.sum(v[0]))),
        case("mean", vec![randn(r, &[2, c], 1.0)], |g, v| Ok(g.mean(v[0]))),
        case("sum_axis", vec![randn(r, &[a, b, c], 1.0)], |g, v| {
            g.sum_axis(v[0], 1, false)
        }),
        case("reshape", vec![randn(r, &[a, b, c], 1.0)], move |g, v| {
            g.reshape(v[0], &[a * b, c])
        }),
        case("permute", vec![randn(r, &[a, b, c], 1.0)], |g, v| {
            g.permute(v[0], &[2, 0, 1])
        }),
        case("narrow", vec![randn(r, &[b, c + 2], 1.0)], move |g, v| {
            g.narrow(v[0], 1, 1, c)
        }),
        case(
            "concat",
            vec![randn(r, &[b, c], 1.0), randn(r, &[b, a], 1.0)],
            |g, v| g.concat(&[v[0], v[1]], 1),
        ),
    ];
    let (m, k, n) = (dim(r, 1, 5), dim(r, 1, 6), dim(r, 1, 5));
    cases.push(case(
        "matmul",
        vec![randn(r, &[a, m, k], 1.0), randn(r, &[k, n], 1.0)],
        |g, v| g.matmul(v[0], v[1]),
    ));
    cases.push(case(
        "matmul_batched",
        vec![randn(r, &[a, 2, m, k], 1.0), randn(r, &[a, 2, k, n], 1.0)],
        |g, v| g.matmul(v[0], v[1]),
    ));
    cases.push(case(
        "matmul_bt",
        vec![randn(r, &[a, m, k], 1.0), randn(r, &[a, n, k], 1.0)],
        |g, v| g.matmul_bt(v[0], v[1]),
    ));
    cases.push(case(
        "linear",
        vec![randn(r, &[m, k], 1.0), randn(r, &[n, k], 1.0), randn(r, &[n], 1.0)],
        |g, v| g.linear(v[0], v[1], Some(v[2])),
    ));

    let (ci, co, hw, kk) = (dim(r, 1, 3), dim(r, 1, 3), dim(r, 4, 7), dim(r, 1, 3));
    let spec = Conv2dSpec {
        stride: dim(r, 1, 2),
        padding: dim(r, 0, 2),
    };
    cases.push(case(
        "conv2d",
        vec![
            randn(r, &[2, ci, hw, hw + 1], 1.0),
            randn(r, &[co, ci, kk, kk], 0.5),
            randn(r, &[co], 0.5),
        ],
        move |g, v| g.conv2d(v[0], v[1], Some(v[2]), spec),
    ));
    let pool = PoolSpec {
        kernel: 2,
        stride: dim(r, 1, 2),
    };
    cases.push(case("max_pool2d", vec![distinct(r, &[2, ci, hw, hw])], move |g, v| {
        g.max_pool2d(v[0], pool)
    }));
    cases.push(case(
        "avg_pool2d",
        vec![randn(r, &[2, ci, hw, hw], 1.0)],
        move |g, v| g.avg_pool2d(v[0], pool),
    ));

    let classes = dim(r, 2, 5);
    let labels: Vec<usize> = (0..m + 1).map(|_| r.below(classes)).collect();
    cases.push(case("softmax", vec![randn(r, &[a, b, classes], 1.5)], |g, v| {
        g.softmax(v[0])
    }));
    cases.push(case(
        "cross_entropy",
        vec![randn(r, &[m + 1, classes], 1.5)],
        move |g, v| g.cross_entropy(v[0], &labels),
    ));
    cases.push(case(
        "mse_loss",
        vec![randn(r, &[b, c], 1.0), randn(r, &[b, c], 1.0)],
        |g, v| g.mse_loss(v[0], v[1]),
    ));
    let e = dim(r, 4, 6);
    cases.push(case(
        "layer_norm",
        // Spread-out rows: layer norm's curvature grows as the row variance shrinks.
        vec![randn(r, &[a, b, e], 3.0), randn(r, &[e], 1.0), randn(r, &[e], 1.0)],
        |g, v| g.layer_norm(v[0], v[1], v[2], 1e-5),
    ));
    let vocab = dim(r, 3, 7);
    let ids: Vec<usize> = (0..a * b).map(|_| r.below(vocab)).collect();
    cases.push(case("embedding", vec![randn(r, &[vocab, e], 1.0)], move |g, v| {
        g.embedding(v[0], &ids, &[a, b])
    }));

    let (t, batch, inp, hid) = (dim(r, 2, 4), dim(r, 1, 2), dim(r, 2, 3), dim(r, 2, 4));
    let rnn_inputs = |r: &mut Rng, gates: usize| {
        vec![
            randn(r, &[t, batch, inp], 1.0),
            randn(r, &[batch, hid], 0.5),
            randn(r, &[gates * hid, inp], 0.5),
            randn(r, &[gates * hid, hid], 0.5),
            randn(r, &[gates * hid], 0.5),
            randn(r, &[gates * hid], 0.5),
        ]
    };
    cases.push(case("rnn_tanh", rnn_inputs(r, 1), |g, v| {
        Ok(g.rnn_tanh(v[0], v[1], v[2], v[3], v[4], v[5])?.outputs)
    }));
    cases.push(case("gru", rnn_inputs(r, 3), |g, v| {
        Ok(g.gru(v[0], v[1], v[2], v[3], v[4], v[5])?.rnn.outputs)
    }));

    let heads = dim(r, 1, 2);
    let emb = heads * dim(r, 1, 2);
    let (l, s) = (dim(r, 2, 3), dim(r, 2, 4));
    let mut attention_inputs = vec![randn(r, &[batch, l, emb], 1.0), randn(r, &[batch, s, emb], 1.0)];
    attention_inputs.extend((0..4).map(|_| randn(r, &[emb, emb], 0.6)));
    attention_inputs.extend((0..4).map(|_| randn(r, &[emb], 0.3)));
    let attention = move |causal: bool| {
        move |g: &mut Graph, v: &[Var]| {
            let p = AttentionParams {
                w_q: v[2],
                w_k: v[3],
                w_v: v[4],
                w_o: v[5],
                b_q: v[6],
                b_k: v[7],
                b_v: v[8],
                b_o: v[9],
            };
            Ok(g.multi_head_attention(v[0], v[1], p, heads, causal)?.output)
        }
    };
    cases.push(case("multi_head_attention", attention_inputs.clone(), attention(false)));
    // The layer's path: W_q, W_k, W_v (and their biases) stacked, as PyTorch
    // stores them, and split again with narrow.
    let stack = |ts: &[Tensor]| {
        let views: Vec<_> = ts.iter().map(|t| t.view()).collect();
        ndarray::concatenate(ndarray::Axis(0), &views).expect("same trailing shape")
    };
    let a = &attention_inputs;
    let packed_inputs = vec![
        a[0].clone(),
        a[1].clone(),
        stack(&a[2..5]),
        stack(&a[6..9]),
        a[5].clone(),
        a[9].clone(),
    ];
    cases.push(case("multi_head_attention_packed", packed_inputs, move |g, v| {
        let p = PackedAttentionParams {
            in_proj_weight: v[2],
            in_proj_bias: v[3],
            out_proj_weight: v[4],
            out_proj_bias: v[5],
        };
        Ok(g.multi_head_attention_packed(v[0], v[1], p, heads, false)?.output)
    }));
    // Causal self-attention: the same tensor as queries and keys.
    let mut causal_inputs = attention_inputs;
    causal_inputs[1] = causal_inputs[0].clone();
    cases.push(case("multi_head_attention_causal", causal_inputs, attention(true)));

    let schedule = crate::ddpm::DdpmSchedule::linear(50, 1e-4, 0.05).expect("valid schedule");
    let steps: Vec<usize> = (0..batch + 1).map(|_| r.below(50)).collect();
    cases.push(case(
        "ddpm_q_sample",
        vec![randn(r, &[batch + 1, 2, 3], 1.0), randn(r, &[batch + 1, 2, 3], 1.0)],
        move |g, v| schedule.q_sample(g, v[0], v[1], &steps),
    ));

    // The LSTM is drawn last, so adding it changed no other case's values.
    let mut lstm_inputs = rnn_inputs(r, 4);
    lstm_inputs.insert(2, randn(r, &[batch, hid], 1.0)); // c0
    cases.push(case("lstm", lstm_inputs, |g, v| {
        Ok(g.lstm(v[0], v[1], v[2], v[3], v[4], v[5], v[6])?.rnn.outputs)
    }));

    // The GAN lab's: drawn after the rest, for the same reason.
    cases.push(case("softplus", vec![randn(r, &[3, 4], 3.0)], |g, v| {
        Ok(g.softplus(v[0]))
    }));
    // WGAN-GP's penalty term is a gradient (of a two-layer tanh critic,
    // with respect to its input) written as tape ops: this checks that
    // differentiating it again, with respect to the weights, is right.
    let (points, width) = (dim(r, 2, 4), dim(r, 2, 4));
    let critic_inputs = vec![
        randn(r, &[points, 2], 1.0),
        randn(r, &[width, 2], 1.0),
        randn(r, &[width], 0.5),
        randn(r, &[1, width], 1.0),
        randn(r, &[1], 0.5),
    ];
    cases.push(case("critic_input_gradient", critic_inputs, |g, v| {
        let layers = [(v[1], v[2]), (v[3], v[4])];
        let (_, grad) =
            crate::models::gan::output_and_input_gradient(g, v[0], &layers, crate::layers::Activation::Tanh)?;
        Ok(grad)
    }));
    // The Detection lab's loss, drawn last: a 3x3 grid of two pictures
    // with an object's target in about a third of the cells, so that every
    // part of the loss (box, objectness with and without an object, class)
    // has a gradient to check.
    let classes = dim(r, 2, 3);
    let targets: Vec<Option<crate::detection::CellTarget>> = (0..2 * 9)
        .map(|_| {
            (r.below(3) == 0).then(|| crate::detection::CellTarget {
                x: r.uniform(),
                y: r.uniform(),
                w: r.uniform_range(-1.0, 1.0),
                h: r.uniform_range(-1.0, 1.0),
                class: r.below(classes),
            })
        })
        .collect();
    cases.push(case(
        "yolo_loss",
        vec![randn(r, &[2, crate::detection::BOX_CHANNELS + classes, 3, 3], 1.5)],
        move |g, v| {
            let weights = crate::ops::YoloWeights {
                coord: 2.0,
                no_object: 0.5,
            };
            Ok(g.yolo_loss(v[0], &targets, weights)?.0)
        },
    ));
    cases
}

/// Gradcheck every op; returns how many were checked.
pub fn check_all_ops(seed: u64) -> core::result::Result<usize, String> {
    let cases = op_cases(seed);
    for c in &cases {
        check(c, Corruption::None, seed ^ 0x5eed)?;
    }
    Ok(cases.len())
}

/// Run every op's check with each kind of broken backward; each must fail.
pub fn check_all_ops_catch_corruption(seed: u64) -> core::result::Result<usize, String> {
    let cases = op_cases(seed);
    for c in &cases {
        for how in [Corruption::Scale, Corruption::Shift] {
            if check(c, how, seed ^ 0x5eed).is_ok() {
                return Err(format!(
                    "{}: the gradcheck passed with a {how:?}-corrupted backward",
                    c.name
                ));
            }
        }
    }
    Ok(cases.len())
}
