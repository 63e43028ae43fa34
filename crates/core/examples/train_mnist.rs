//! Native reference run of the CNN lab's default network on MNIST-10k, with
//! the lab's own trainer: prints test accuracy (all 2,000 test digits)
//! against steps and wall time.
//!
//!   cargo run --release -p deepplay-core --example train_mnist -- [steps] [lr] [batch] [seed]

use deepplay_core::data::mnist::Mnist;
use deepplay_core::models::cnn::CnnConfig;
use deepplay_core::models::cnn_trainer::{CnnHyper, CnnTrainer};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let steps = arg(0, 3000.0) as usize;
    let hyper = CnnHyper {
        learning_rate: arg(1, 3e-3) as f32,
        batch_size: arg(2, 32.0) as usize,
        ..CnnHyper::default()
    };
    let seed = arg(3, 1.0) as u64;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/assets/data/");
    let read = |name: &str| std::fs::read(format!("{dir}{name}")).expect("MNIST files in web/assets/data");
    let data = Mnist::from_gzip(
        &read("mnist-10k-images-idx3-ubyte.gz"),
        &read("mnist-10k-labels-idx1-ubyte.gz"),
    )
    .expect("the shipped files decode");
    let mut trainer = CnnTrainer::new(&data, &CnnConfig::mnist_default(), hyper, seed).expect("valid settings");
    let start = Instant::now();
    let mut train_time = 0.0;
    for step in 1..=steps {
        let t0 = Instant::now();
        trainer.train_step(&data).expect("training step");
        train_time += t0.elapsed().as_secs_f64();
        if step % 250 == 0 {
            let test_digits = data.test_indices().len();
            let eval = trainer
                .evaluate_chunk(&data, test_digits)
                .expect("evaluation")
                .expect("one whole pass");
            println!(
                "step {step:5}  test accuracy {:.4}  {:.1} ms/step  {:.1} s",
                eval.accuracy,
                1e3 * train_time / step as f64,
                start.elapsed().as_secs_f64()
            );
        }
    }
}
