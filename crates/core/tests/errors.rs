//! Errors are values: bad shapes and arguments come back as `Error`s whose
//! message names what disagreed, never as a panic.

use deepplay_core::ops::{Conv2dSpec, PoolSpec};
use deepplay_core::{tensor, Graph};

fn var(g: &mut Graph, shape: &[usize]) -> deepplay_core::Var {
    g.variable(tensor::zeros(shape))
}

#[test]
fn shape_mismatches_name_both_shapes() {
    let mut g = Graph::new();
    let (x, w) = (var(&mut g, &[2, 3, 8, 8]), var(&mut g, &[4, 2, 3, 3]));
    let msg = g.conv2d(x, w, None, Conv2dSpec::default()).unwrap_err().to_string();
    assert!(msg.contains("[2, 3, 8, 8]") && msg.contains("[4, 2, 3, 3]"), "{msg}");

    let (a, b) = (var(&mut g, &[2, 3]), var(&mut g, &[4, 5]));
    let msg = g.matmul(a, b).unwrap_err().to_string();
    assert!(msg.contains("[2, 3]") && msg.contains("[4, 5]"), "{msg}");
    let msg = g.add(a, b).unwrap_err().to_string();
    assert!(msg.contains("[2, 3]") && msg.contains("[4, 5]"), "{msg}");
    let msg = g.linear(a, b, None).unwrap_err().to_string();
    assert!(msg.contains("[2, 3]") && msg.contains("[4, 5]"), "{msg}");
}

#[test]
fn impossible_geometry_and_bad_labels_are_refused() {
    let mut g = Graph::new();
    let (x, w) = (var(&mut g, &[1, 1, 4, 4]), var(&mut g, &[1, 1, 7, 7]));
    let msg = g
        .conv2d(x, w, None, Conv2dSpec { stride: 1, padding: 1 })
        .unwrap_err()
        .to_string();
    assert!(msg.contains("does not fit"), "{msg}");
    assert!(g.max_pool2d(x, PoolSpec::new(5)).is_err());
    assert!(g.conv2d(x, w, None, Conv2dSpec { stride: 0, padding: 3 }).is_err());
    let logits = var(&mut g, &[2, 3]);
    let msg = g.cross_entropy(logits, &[0, 3]).unwrap_err().to_string();
    assert!(msg.contains("label 3"), "{msg}");
    let table = var(&mut g, &[4, 2]);
    assert!(g.embedding(table, &[1, 9], &[2]).is_err());
    assert!(g.reshape(logits, &[4]).is_err());
    assert!(g.permute(logits, &[0, 0]).is_err());
    assert!(g.narrow(logits, 1, 2, 2).is_err());
    let loss = var(&mut g, &[2]);
    assert!(g.backward(loss).is_err(), "backward needs a scalar");
}
