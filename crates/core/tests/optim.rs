//! Optimizer updates against values worked out by hand from PyTorch's
//! documented update rules (torch.optim.SGD, Adam, AdamW; clip_grad_norm_).

use deepplay_core::optim::{clip_grad_norm, Optimizer};
use deepplay_core::{tensor, Param};

fn param(values: &[f32]) -> Param {
    Param::new("p", tensor::from_vec(&[values.len()], values.to_vec()).unwrap())
}

fn step(opt: &mut Optimizer, p: &mut Param, grad: &[f32]) -> Vec<f32> {
    p.grad = tensor::from_vec(&[grad.len()], grad.to_vec()).unwrap();
    opt.step(&mut [p]);
    assert!(p.grad.iter().all(|&g| g == 0.0), "step() zeroes the gradients");
    p.value.iter().copied().collect()
}

fn close(a: &[f32], b: &[f32]) -> bool {
    a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
}

#[test]
fn sgd_with_momentum_and_weight_decay() {
    let mut p = param(&[1.0]);
    let mut opt = Optimizer::sgd(0.1, 0.9, 0.0);
    assert!(close(&step(&mut opt, &mut p, &[1.0]), &[0.9])); // v = 1
    assert!(close(&step(&mut opt, &mut p, &[1.0]), &[0.71])); // v = 1.9
    let mut p = param(&[2.0]);
    let mut opt = Optimizer::sgd(0.1, 0.0, 0.5);
    // g = 1 + 0.5 * 2 = 2
    assert!(close(&step(&mut opt, &mut p, &[1.0]), &[1.8]));
}

#[test]
fn adam_bias_correction_makes_early_steps_lr_sized() {
    let mut p = param(&[1.0, -1.0]);
    let mut opt = Optimizer::adam(0.1);
    assert!(close(&step(&mut opt, &mut p, &[0.5, -2.0]), &[0.9, -0.9]));
    assert!(close(&step(&mut opt, &mut p, &[0.5, -2.0]), &[0.8, -0.8]));
}

#[test]
fn adamw_decays_weights_apart_from_the_gradient() {
    let mut p = param(&[1.0]);
    let mut opt = Optimizer::adamw(0.1, 0.1);
    // p = 1 - 0.1 * 0.1 * 1 = 0.99, then the Adam step of 0.1
    assert!(close(&step(&mut opt, &mut p, &[0.5]), &[0.89]));
}

#[test]
fn frozen_parameters_do_not_move() {
    let mut p = param(&[1.0]);
    p.frozen = true;
    let mut opt = Optimizer::adam(0.1);
    assert_eq!(step(&mut opt, &mut p, &[0.5]), vec![1.0]);
}

#[test]
fn clipping_scales_to_the_max_norm_and_reports_the_old_norm() {
    let mut a = param(&[0.0]);
    let mut b = param(&[0.0, 0.0]);
    a.grad = tensor::from_vec(&[1], vec![3.0]).unwrap();
    b.grad = tensor::from_vec(&[2], vec![0.0, 4.0]).unwrap();
    let norm = clip_grad_norm(&mut [&mut a, &mut b], 1.0);
    assert!((norm - 5.0).abs() < 1e-6);
    assert!((a.grad[[0]] - 0.6).abs() < 1e-5 && (b.grad[[1]] - 0.8).abs() < 1e-5);
    // Under the limit nothing changes.
    let norm = clip_grad_norm(&mut [&mut a, &mut b], 10.0);
    assert!((norm - 1.0).abs() < 1e-5 && (a.grad[[0]] - 0.6).abs() < 1e-6);
}
