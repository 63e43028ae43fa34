use deepplay_core::models::cnn::{Cnn, CnnConfig};
use deepplay_core::ops::{Conv2dSpec, PoolSpec};
use deepplay_core::{Graph, Module, Rng, Tensor};
use std::time::Instant;
fn t(label: &str, reps: usize, mut f: impl FnMut()) {
    let s = Instant::now();
    for _ in 0..reps {
        f();
    }
    println!("{label:30} {:8.3} ms", s.elapsed().as_secs_f64() * 1e3 / reps as f64);
}
fn main() {
    let mut rng = Rng::new(1);
    let x = Tensor::from_shape_simple_fn(ndarray::IxDyn(&[32, 1, 28, 28]), || rng.normal());
    let w1 = Tensor::from_shape_simple_fn(ndarray::IxDyn(&[8, 1, 5, 5]), || rng.normal());
    let b1 = Tensor::zeros(ndarray::IxDyn(&[8]));
    let x2 = Tensor::from_shape_simple_fn(ndarray::IxDyn(&[32, 8, 14, 14]), || rng.normal());
    let w2 = Tensor::from_shape_simple_fn(ndarray::IxDyn(&[16, 8, 5, 5]), || rng.normal());
    let b2 = Tensor::zeros(ndarray::IxDyn(&[16]));
    let spec = Conv2dSpec { stride: 1, padding: 2 };
    for (name, xx, ww, bb, need_x) in [("conv1", &x, &w1, &b1, false), ("conv2", &x2, &w2, &b2, true)] {
        t(&format!("{name} fwd"), 50, || {
            let mut g = Graph::new();
            let xv = if need_x {
                g.variable(xx.clone())
            } else {
                g.constant(xx.clone())
            };
            let wv = g.variable(ww.clone());
            let bv = g.variable(bb.clone());
            let _ = g.conv2d(xv, wv, Some(bv), spec).unwrap();
        });
        t(&format!("{name} fwd+bwd"), 50, || {
            let mut g = Graph::new();
            let xv = if need_x {
                g.variable(xx.clone())
            } else {
                g.constant(xx.clone())
            };
            let wv = g.variable(ww.clone());
            let bv = g.variable(bb.clone());
            let o = g.conv2d(xv, wv, Some(bv), spec).unwrap();
            let s = g.shape(o).to_vec();
            g.backward_with(o, Tensor::ones(ndarray::IxDyn(&s))).unwrap();
        });
    }
    let a = Tensor::from_shape_simple_fn(ndarray::IxDyn(&[32, 8, 28, 28]), || rng.normal());
    t("relu+pool2 fwd+bwd", 50, || {
        let mut g = Graph::new();
        let v = g.variable(a.clone());
        let r = g.relu(v);
        let p = g.max_pool2d(r, PoolSpec::new(2)).unwrap();
        let s = g.shape(p).to_vec();
        g.backward_with(p, Tensor::ones(ndarray::IxDyn(&s))).unwrap();
    });
    let mut model = Cnn::new(&CnnConfig::mnist_default(), &mut rng).unwrap();
    let mut opt = deepplay_core::optim::Optimizer::adam(1e-3);
    let labels: Vec<usize> = (0..32).map(|i| i % 10).collect();
    t("full step", 50, || {
        model.train_step(&x, &labels, &mut opt).unwrap();
    });
    t("adam only", 50, || {
        opt.step(&mut model.params_mut());
    });
}
