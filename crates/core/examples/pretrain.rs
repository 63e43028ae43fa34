//! `make pretrain`: trains the Transfer lab's shipped network on digits 0-4
//! of MNIST-10k's training split (seeded, `PretrainConfig::default()`) and
//! writes it as safetensors, with how it was made and its accuracy on the
//! test split's digits 0-4 in the file's metadata.
//!   cargo run --release -p deepplay-core --example pretrain -- [out.safetensors]

use deepplay_core::data::mnist::Mnist;
use deepplay_core::models::transfer::{pretrain, pretrained_metadata, PretrainConfig, PRETRAIN_DIGITS};
use std::time::Instant;

fn main() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/assets/data/");
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| format!("{dir}pretrained-cnn-digits-0-4.safetensors"));
    let read = |name: &str| std::fs::read(format!("{dir}{name}")).expect("MNIST files in web/assets/data");
    let data = Mnist::from_gzip(
        &read("mnist-10k-images-idx3-ubyte.gz"),
        &read("mnist-10k-labels-idx1-ubyte.gz"),
    )
    .expect("the shipped files decode");
    let config = PretrainConfig::default();
    let start = Instant::now();
    let (model, accuracy) = pretrain(&data, config, |step, loss| {
        if step % 250 == 0 {
            println!("step {step:5}  loss {loss:.4}");
        }
    })
    .expect("pretraining");
    let seconds = start.elapsed().as_secs_f64();
    let metadata = pretrained_metadata(&config, accuracy);
    let pairs: Vec<(&str, &str)> = metadata.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bytes = deepplay_core::safetensors::save(&model, &pairs);
    std::fs::write(&out, &bytes).expect("write the weights");
    let digits: Vec<String> = PRETRAIN_DIGITS.iter().map(|d| d.to_string()).collect();
    println!(
        "pretrained on digits {} in {seconds:.1} s ({} steps): test accuracy on those digits {accuracy:.4}; wrote {} bytes to {out}",
        digits.join(","),
        config.steps,
        bytes.len()
    );
}
