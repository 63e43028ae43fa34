//! Every op's backward against central finite differences, over several
//! seeds (different random shapes and values each time), and the proof that
//! these checks catch a broken backward.

use deepplay_core::gradcheck::{check, check_all_ops, check_all_ops_catch_corruption, op_cases, Case, Corruption};
use deepplay_core::{tensor, Graph, Tensor};

#[test]
fn every_op_passes_its_gradcheck_for_several_seeds() {
    for seed in [1, 2, 3, 4] {
        let n = check_all_ops(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        assert!(n >= 30, "only {n} op cases");
    }
}

#[test]
fn every_op_check_fails_when_its_backward_is_corrupted() {
    for seed in [1, 2] {
        check_all_ops_catch_corruption(seed).unwrap_or_else(|e| panic!("seed {seed}: {e}"));
    }
}

#[test]
fn the_op_table_is_covered() {
    let names: Vec<&str> = op_cases(1).iter().map(|c| c.name).collect();
    for op in [
        "linear",
        "conv2d",
        "max_pool2d",
        "avg_pool2d",
        "relu",
        "tanh",
        "sigmoid",
        "gelu",
        "softmax",
        "cross_entropy",
        "mse_loss",
        "layer_norm",
        "embedding",
        "rnn_tanh",
        "gru",
        "lstm",
        "multi_head_attention",
        "multi_head_attention_causal",
        "multi_head_attention_packed",
        "ddpm_q_sample",
        "matmul",
        "matmul_bt",
        "add",
        "mul",
        "sum",
        "reshape",
        "permute",
        "concat",
        "narrow",
        "yolo_loss",
    ] {
        assert!(names.contains(&op), "no gradcheck for {op}");
    }
}

/// A sigmoid whose backward uses tanh's derivative, the kind of slip a real
/// op can have: the check must reject it.
#[test]
fn a_deliberately_wrong_sigmoid_backward_is_caught() {
    let broken = Case {
        name: "broken_sigmoid",
        inputs: vec![tensor::from_vec(&[2, 3], vec![-1.2, -0.4, 0.1, 0.5, 0.9, 2.0]).unwrap()],
        build: Box::new(|g: &mut Graph, v| {
            let value = g.value(v[0]).mapv(|x| 1.0 / (1.0 + (-x).exp()));
            Ok(g.custom(&[v[0]], value, |args| {
                vec![Some(args.grad * &args.output.mapv(|y| 1.0 - y * y))]
            }))
        }),
    };
    let err = check(&broken, Corruption::None, 9).unwrap_err();
    assert!(err.contains("broken_sigmoid"), "{err}");

    // The same op with the right derivative passes: the failure was the bug.
    let fixed = Case {
        name: "sigmoid_custom",
        inputs: broken.inputs.clone(),
        build: Box::new(|g: &mut Graph, v| {
            let value: Tensor = g.value(v[0]).mapv(|x| 1.0 / (1.0 + (-x).exp()));
            Ok(g.custom(&[v[0]], value, |args| {
                vec![Some(args.grad * &args.output.mapv(|y| y * (1.0 - y)))]
            }))
        }),
    };
    check(&fixed, Corruption::None, 9).unwrap();
}
