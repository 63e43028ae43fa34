//! The op oracle example, run as a process: known answers, gradients, and the
//! exit-code-2 contract for bad requests. `cargo test` builds examples next to
//! the test binaries, so the binary is found relative to this one.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn oracle_path() -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join("examples")
        .join(format!("oracle{}", std::env::consts::EXE_SUFFIX))
}

fn run(request: &str) -> (i32, String, String) {
    let mut child = Command::new(oracle_path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the oracle example is built by cargo test");
    child.stdin.take().unwrap().write_all(request.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn data(reply: &serde_json::Value, path: &[&str]) -> Vec<f64> {
    let mut v = reply;
    for p in path {
        v = &v[p];
    }
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn assert_close(got: &[f64], want: &[f64]) {
    assert_eq!(got.len(), want.len(), "{got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!((g - w).abs() < 1e-5, "{got:?} vs {want:?}");
    }
}

#[test]
fn conv2d_with_padding_matches_a_hand_computed_answer() {
    // 1x1x3x3 input 1..9, a 2x2 kernel of ones, padding 1, stride 2:
    // windows at (-1,-1), (-1,1), (1,-1), (1,1) of the padded input.
    let request = r#"{"op":"conv2d",
        "inputs":{"x":{"shape":[1,1,3,3],"data":[1,2,3,4,5,6,7,8,9]},
                  "w":{"shape":[1,1,2,2],"data":[1,1,1,1]},"b":{"shape":[1],"data":[0.5]}},
        "attrs":{"stride":2,"padding":1},
        "grad_output":{"shape":[1,1,2,2],"data":[1,0,0,0]}}"#;
    let (code, out, err) = run(request);
    assert_eq!(code, 0, "{err}");
    let reply: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reply["output"]["shape"], serde_json::json!([1, 1, 2, 2]));
    assert_close(&data(&reply, &["output"]), &[1.5, 5.5, 11.5, 28.5]);
    // Only the first window gets gradient: it saw x[0,0] alone.
    assert_close(&data(&reply, &["grads", "x"]), &[1., 0., 0., 0., 0., 0., 0., 0., 0.]);
    assert_close(&data(&reply, &["grads", "w"]), &[0., 0., 0., 1.]);
    assert_close(&data(&reply, &["grads", "b"]), &[1.]);
}

#[test]
fn gru_one_step_matches_pytorch_equations() {
    // H = 1, I = 1, all weights 0.5, biases 0, x = 1, h0 = 1:
    // r = z = sigmoid(0.5 + 0.5) ; n = tanh(0.5 + r * 0.5) ; h = (1 - z) n + z h0
    let request = r#"{"op":"gru","inputs":{
        "x":{"shape":[1,1,1],"data":[1]},"h0":{"shape":[1,1],"data":[1]},
        "w_ih":{"shape":[3,1],"data":[0.5,0.5,0.5]},"w_hh":{"shape":[3,1],"data":[0.5,0.5,0.5]},
        "b_ih":{"shape":[3],"data":[0,0,0]},"b_hh":{"shape":[3],"data":[0,0,0]}}}"#;
    let (code, out, err) = run(request);
    assert_eq!(code, 0, "{err}");
    let reply: serde_json::Value = serde_json::from_str(&out).unwrap();
    let s = 1.0 / (1.0 + (-1.0f64).exp());
    let n = (0.5 + s * 0.5).tanh();
    assert_close(&data(&reply, &["output"]), &[(1.0 - s) * n + s]);
    assert!(reply.get("grads").is_none(), "no grad_output, no grads");
}

/// An LSTM request's inputs, [T, N, I] sized, with an f64 reference of
/// PyTorch's equations, gate order (i, f, g, o).
#[derive(Clone)]
struct Lstm {
    t: usize,
    n: usize,
    i: usize,
    h: usize,
    /// x, h0, c0, w_ih, w_hh, b_ih, b_hh, in the oracle's order.
    inputs: Vec<Vec<f64>>,
}

const LSTM_INPUTS: [&str; 7] = ["x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"];

impl Lstm {
    fn shapes(&self) -> [Vec<usize>; 7] {
        let (t, n, i, h) = (self.t, self.n, self.i, self.h);
        [
            vec![t, n, i],
            vec![n, h],
            vec![n, h],
            vec![4 * h, i],
            vec![4 * h, h],
            vec![4 * h],
            vec![4 * h],
        ]
    }

    fn request(&self, grad_output: Option<&[f64]>) -> String {
        let mut inputs = serde_json::Map::new();
        for ((name, shape), data) in LSTM_INPUTS.iter().zip(self.shapes()).zip(&self.inputs) {
            inputs.insert(name.to_string(), serde_json::json!({"shape": shape, "data": data}));
        }
        let mut request = serde_json::json!({"op": "lstm", "inputs": inputs});
        if let Some(grad) = grad_output {
            request["grad_output"] = serde_json::json!({"shape": [self.t, self.n, self.h], "data": grad});
        }
        request.to_string()
    }

    /// outputs [T, N, H], in f64.
    fn reference(&self) -> Vec<f64> {
        let (n, i, h) = (self.n, self.i, self.h);
        let [x, h0, c0, w_ih, w_hh, b_ih, b_hh] = [0, 1, 2, 3, 4, 5, 6].map(|k| &self.inputs[k]);
        let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
        let (mut state, mut cell) = (h0.clone(), c0.clone());
        let mut outputs = Vec::new();
        for step in 0..self.t {
            let (mut next_h, mut next_c) = (vec![0.0; n * h], vec![0.0; n * h]);
            for b in 0..n {
                // pre[row] for row in 0..4H: (i, f, g, o) blocks of H rows.
                let pre = |row: usize| {
                    let from_x: f64 = (0..i).map(|k| w_ih[row * i + k] * x[(step * n + b) * i + k]).sum();
                    let from_h: f64 = (0..h).map(|k| w_hh[row * h + k] * state[b * h + k]).sum();
                    from_x + b_ih[row] + from_h + b_hh[row]
                };
                for u in 0..h {
                    let input = sigmoid(pre(u));
                    let forget = sigmoid(pre(h + u));
                    let candidate = pre(2 * h + u).tanh();
                    let output = sigmoid(pre(3 * h + u));
                    next_c[b * h + u] = forget * cell[b * h + u] + input * candidate;
                    next_h[b * h + u] = output * next_c[b * h + u].tanh();
                }
            }
            outputs.extend_from_slice(&next_h);
            (state, cell) = (next_h, next_c);
        }
        outputs
    }
}

fn weighted(outputs: &[f64], weights: &[f64]) -> f64 {
    outputs.iter().zip(weights).map(|(o, w)| o * w).sum()
}

#[test]
fn lstm_one_step_matches_pytorch_equations() {
    // H = I = N = T = 1, and every gate has its own weights and biases, so a
    // wrong gate order changes the answer by more than 0.1 (checked below for
    // all 23 wrong orders).
    let (x, h0, c0) = (0.6, 1.2, 1.3);
    let w_ih = [1.1, 0.1, -0.5, -1.4]; // i, f, g, o
    let w_hh = [1.1, 0.5, -0.2, 0.5];
    let b_ih = [0.8, -0.9, -1.4, 0.3];
    let b_hh = [0.9, 0.5, -0.8, 1.1];
    let lstm = Lstm {
        t: 1,
        n: 1,
        i: 1,
        h: 1,
        inputs: vec![
            vec![x],
            vec![h0],
            vec![c0],
            w_ih.to_vec(),
            w_hh.to_vec(),
            b_ih.to_vec(),
            b_hh.to_vec(),
        ],
    };
    let (code, out, err) = run(&lstm.request(None));
    assert_eq!(code, 0, "{err}");
    let reply: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reply["output"]["shape"], serde_json::json!([1, 1, 1]));
    assert!(reply.get("grads").is_none(), "no grad_output, no grads");

    let sigmoid = |v: f64| 1.0 / (1.0 + (-v).exp());
    // The rows of the stacked weights that play i, f, g and o.
    let answer = |[ri, rf, rg, ro]: [usize; 4]| {
        let pre = |k: usize| w_ih[k] * x + b_ih[k] + w_hh[k] * h0 + b_hh[k];
        let (i, f, g, o) = (sigmoid(pre(ri)), sigmoid(pre(rf)), pre(rg).tanh(), sigmoid(pre(ro)));
        let c = f * c0 + i * g;
        o * c.tanh()
    };
    let expected = answer([0, 1, 2, 3]);
    assert_close(&data(&reply, &["output"]), &[expected]);
    assert_close(&lstm.reference(), &[expected]);
    let mut orders = 0;
    for a in 0..4 {
        for b in 0..4 {
            for c in 0..4 {
                for d in 0..4 {
                    let order = [a, b, c, d];
                    let distinct = (0..4).all(|k| order.iter().filter(|&&r| r == k).count() == 1);
                    if distinct && order != [0, 1, 2, 3] {
                        orders += 1;
                        let wrong = answer(order);
                        assert!((wrong - expected).abs() > 0.1, "order {order:?} gives {wrong}");
                    }
                }
            }
        }
    }
    assert_eq!(orders, 23);
}

#[test]
fn lstm_two_steps_gradients_match_finite_differences() {
    // T = 2, N = 1, I = 2, H = 2; values spread over [-0.9, 0.9].
    let mut lstm = Lstm {
        t: 2,
        n: 1,
        i: 2,
        h: 2,
        inputs: Vec::new(),
    };
    let mut k = 0usize;
    for shape in lstm.shapes() {
        let count: usize = shape.iter().product();
        lstm.inputs.push(
            (0..count)
                .map(|_| {
                    k += 1;
                    ((k * 37) % 19) as f64 / 10.0 - 0.9
                })
                .collect(),
        );
    }
    let grad_output = [0.7, -1.2, 0.4, 0.9];
    let (code, out, err) = run(&lstm.request(Some(&grad_output)));
    assert_eq!(code, 0, "{err}");
    let reply: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reply["output"]["shape"], serde_json::json!([2, 1, 2]));
    assert_close(&data(&reply, &["output"]), &lstm.reference());

    // Every input's gradient against central differences of
    // sum(output * grad_output) on the f64 reference.
    for (k, (name, shape)) in LSTM_INPUTS.iter().zip(lstm.shapes()).enumerate() {
        assert_eq!(reply["grads"][name]["shape"], serde_json::json!(shape), "{name}");
        let grad = data(&reply, &["grads", name]);
        assert!(grad.iter().all(|g| g.is_finite()), "{name}: {grad:?}");
        for (j, &analytic) in grad.iter().enumerate() {
            let eps = 1e-6;
            let mut moved = lstm.clone();
            moved.inputs[k][j] += eps;
            let plus = weighted(&moved.reference(), &grad_output);
            moved.inputs[k][j] -= 2.0 * eps;
            let minus = weighted(&moved.reference(), &grad_output);
            let numeric = (plus - minus) / (2.0 * eps);
            assert!(
                (analytic - numeric).abs() < 1e-4,
                "{name}[{j}]: analytic {analytic} vs numeric {numeric}"
            );
        }
    }
    // The cell state's gradient reaches back through both steps: nonzero.
    assert!(data(&reply, &["grads", "c0"]).iter().all(|g| g.abs() > 1e-3));

    // And once through the oracle itself: c0[0] moved both ways.
    let eps = 1e-2;
    let through_oracle = |delta: f64| {
        let mut moved = lstm.clone();
        moved.inputs[2][0] += delta;
        let (code, out, err) = run(&moved.request(None));
        assert_eq!(code, 0, "{err}");
        let reply: serde_json::Value = serde_json::from_str(&out).unwrap();
        weighted(&data(&reply, &["output"]), &grad_output)
    };
    let numeric = (through_oracle(eps) - through_oracle(-eps)) / (2.0 * eps);
    let analytic = data(&reply, &["grads", "c0"])[0];
    assert!(
        (analytic - numeric).abs() < 1e-3,
        "c0[0]: analytic {analytic} vs numeric {numeric}"
    );

    // A c0 that is not h0's shape is refused, naming c0.
    let mut request: serde_json::Value = serde_json::from_str(&lstm.request(None)).unwrap();
    request["inputs"]["c0"] = serde_json::json!({"shape": [1, 3], "data": [0.1, 0.2, 0.3]}); // H = 2 elsewhere
    let (code, out, err) = run(&request.to_string());
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("c0") && err.contains("[1, 3]") && err.contains("[1, 2]"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn attention_reply_holds_causal_weights() {
    let ident = r#"{"shape":[2,2],"data":[1,0,0,1]}"#;
    let zero = r#"{"shape":[2],"data":[0,0]}"#;
    let request = format!(
        r#"{{"op":"multi_head_attention","inputs":{{"q":{{"shape":[1,3,2],"data":[1,0,0,1,1,1]}},"kv":{{"shape":[1,3,2],"data":[1,0,0,1,1,1]}},
        "w_q":{ident},"w_k":{ident},"w_v":{ident},"w_o":{ident},"b_q":{zero},"b_k":{zero},"b_v":{zero},"b_o":{zero}}},
        "attrs":{{"num_heads":2,"causal":true}}}}"#
    );
    let (code, out, err) = run(&request);
    assert_eq!(code, 0, "{err}");
    let reply: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(reply["attention"]["shape"], serde_json::json!([1, 2, 3, 3]));
    let a = data(&reply, &["attention"]);
    for head in 0..2 {
        let m = &a[head * 9..head * 9 + 9];
        assert_close(&[m[0], m[1], m[2], m[5]], &[1.0, 0.0, 0.0, 0.0]); // nothing above the diagonal
        for row in m.chunks(3) {
            assert!((row.iter().sum::<f64>() - 1.0).abs() < 1e-6);
        }
    }
}

#[test]
fn bad_requests_exit_2_with_one_line() {
    for (request, needle) in [
        (r#"{"op":"nonsense"}"#, "unknown op"),
        (r#"{"op":"relu""#, "malformed"),
        (
            r#"{"op":"linear","inputs":{"x":{"shape":[1,2],"data":[1,2]},"w":{"shape":[3,3],"data":[1,2,3,4,5,6,7,8,9]},"b":{"shape":[3],"data":[0,0,0]}}}"#,
            "[1, 2]",
        ),
        (
            r#"{"op":"relu","inputs":{"x":{"shape":[3],"data":[1,2]}}}"#,
            "data values",
        ),
        (
            r#"{"op":"cross_entropy","inputs":{"logits":{"shape":[1,2],"data":[1,2]},"labels":{"shape":[1],"data":[-1]}}}"#,
            "non-negative",
        ),
        (
            r#"{"op":"relu","inputs":{"x":{"shape":[2],"data":[1,2]}},"grad_output":{"shape":[3],"data":[1,2,3]}}"#,
            "grad_output",
        ),
        (
            r#"{"op":"max_pool2d","inputs":{"x":{"shape":[1,1,2,2],"data":[1,2,3,4]}}}"#,
            "kernel",
        ),
    ] {
        let (code, out, err) = run(request);
        assert_eq!(code, 2, "{request} -> {out} {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle) && !err.contains("panicked"), "{request}: {err}");
        assert!(out.is_empty());
    }
}

/// Mutated requests (a character changed, the text cut short, or a shape or
/// number swapped for a hostile one): each gets an answer or the exit-2
/// refusal with one line, never a crash. A few hundred, since each is a process.
#[test]
fn mutated_requests_are_answered_or_refused_never_a_crash() {
    let valid = r#"{"op":"conv2d","inputs":{"x":{"shape":[1,1,3,3],"data":[1,2,3,4,5,6,7,8,9]},"w":{"shape":[1,1,2,2],"data":[1,1,1,1]},"b":{"shape":[1],"data":[0]}},"attrs":{"stride":1,"padding":1},"grad_output":{"shape":[1,1,4,4],"data":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]}}"#;
    let hostile = [
        "-1",
        "1e30",
        "4294967296",
        "18446744073709551616",
        "null",
        "[]",
        "\"x\"",
        "0",
        "9e99",
    ];
    let mut rng = deepplay_core::Rng::new(21);
    let (mut answered, mut refused) = (0, 0);
    for case in 0..300 {
        let mut text: Vec<char> = valid.chars().collect();
        match case % 3 {
            0 => {
                let at = rng.below(text.len());
                text[at] = ['{', '}', '[', ']', ',', ':', '"', '1', '-', 'x'][rng.below(10)];
            }
            1 => text.truncate(rng.below(text.len())),
            _ => {
                // Replace one number with a hostile value.
                let digits: Vec<usize> = (0..text.len()).filter(|&i| text[i].is_ascii_digit()).collect();
                let at = digits[rng.below(digits.len())];
                let value: Vec<char> = hostile[rng.below(hostile.len())].chars().collect();
                text.splice(at..at + 1, value);
            }
        }
        let request: String = text.into_iter().collect();
        let (code, stdout, stderr) = run(&request);
        match code {
            0 => {
                answered += 1;
                assert!(
                    serde_json::from_str::<serde_json::Value>(&stdout).is_ok(),
                    "{request}: {stdout}"
                );
            }
            2 => {
                refused += 1;
                assert_eq!(stderr.trim().lines().count(), 1, "{request}: {stderr}");
            }
            other => panic!("exit {other} for {request}: {stderr}"),
        }
    }
    assert!(answered > 0 && refused > 0, "{answered} answered, {refused} refused");
}
