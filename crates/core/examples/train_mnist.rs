//! Native reference run of the CNN lab's default network on MNIST-10k:
//! prints test accuracy (all 2,000 test digits) against steps and wall time.
//!
//!   cargo run --release -p deepplay-core --example train_mnist -- [steps] [lr] [batch] [seed]

use deepplay_core::data::mnist::Mnist;
use deepplay_core::models::cnn::{Cnn, CnnConfig};
use deepplay_core::models::mlp::accuracy;
use deepplay_core::optim::Optimizer;
use deepplay_core::Rng;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (steps, lr, batch, seed) = (
        arg(0, 3000.0) as usize,
        arg(1, 3e-3) as f32,
        arg(2, 32.0) as usize,
        arg(3, 1.0) as u64,
    );
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/assets/data/");
    let read = |name: &str| std::fs::read(format!("{dir}{name}")).expect("MNIST files in web/assets/data");
    let data = Mnist::from_gzip(
        &read("mnist-10k-images-idx3-ubyte.gz"),
        &read("mnist-10k-labels-idx1-ubyte.gz"),
    )
    .unwrap();
    let mut rng = Rng::new(seed);
    let mut model = Cnn::new(&CnnConfig::mnist_default(), &mut rng).unwrap();
    let mut opt = Optimizer::adam(lr);
    let mut order: Vec<usize> = data.train_indices().collect();
    let test: Vec<usize> = data.test_indices().collect();
    let (test_x, test_y) = data.batch(&test, None);
    let start = Instant::now();
    let mut train_time = 0.0;
    for step in 0..steps {
        let at = (step * batch) % (order.len() - order.len() % batch);
        if at == 0 {
            rng.shuffle(&mut order);
        }
        let t0 = Instant::now();
        let (x, y) = data.batch(&order[at..at + batch], None);
        model.train_step(&x, &y, &mut opt).unwrap();
        train_time += t0.elapsed().as_secs_f64();
        if (step + 1) % 250 == 0 {
            let acc = accuracy(&model.predict_proba(&test_x).unwrap(), &test_y);
            println!(
                "step {:5}  test accuracy {:.4}  {:.1} ms/step  {:.1} s",
                step + 1,
                acc,
                1e3 * train_time / (step + 1) as f64,
                start.elapsed().as_secs_f64()
            );
        }
    }
}
