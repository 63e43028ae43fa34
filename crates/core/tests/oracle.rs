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
