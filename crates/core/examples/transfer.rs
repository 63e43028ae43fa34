//! The Transfer lab's comparison, natively: a network pretrained on digits
//! 0-4 (trained here with `PretrainConfig::default()`, or read from the
//! shipped file), fine-tuned on k examples per class of digits 5-9 with the
//! chosen layers frozen, beside the same network from scratch on the same
//! batches; prints held-out accuracy on the test split's 5-9 over steps.
//!   cargo run --release -p deepplay-core --example transfer -- [per-class] [steps] [lr] [freeze: none|conv1|both] [seeds] [augment 0|1]
//! With FILTERS=16,32 (conv filters), PRE_AUG=1 (shifts while pretraining)
//! or PRE_STEPS=n, a network pretrained here that way replaces the shipped one.

use deepplay_core::data::mnist::Mnist;
use deepplay_core::models::cnn::Cnn;
use deepplay_core::models::transfer::*;
use deepplay_core::optim::Optimizer;
use deepplay_core::Rng;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let per_class = arg(0, 10.0) as usize;
    let steps = arg(1, 300.0) as usize;
    let lr = arg(2, 1e-3) as f32;
    let frozen = match args.get(3).map(String::as_str) {
        Some("none") => vec![false, false],
        Some("conv1") => vec![true, false],
        _ => vec![true, true],
    };
    let seeds = arg(4, 3.0) as u64;
    let augment = arg(5, 1.0) > 0.0;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/assets/data/");
    let read = |name: &str| std::fs::read(format!("{dir}{name}")).expect("MNIST files in web/assets/data");
    let data = Mnist::from_gzip(
        &read("mnist-10k-images-idx3-ubyte.gz"),
        &read("mnist-10k-labels-idx1-ubyte.gz"),
    )
    .expect("the shipped files decode");
    let t0 = Instant::now();
    let filters: Vec<usize> = std::env::var("FILTERS")
        .unwrap_or_default()
        .split(',')
        .filter_map(|f| f.parse().ok())
        .collect();
    let pre_aug = std::env::var("PRE_AUG").is_ok();
    let pre_steps: usize = std::env::var("PRE_STEPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1500);
    let shipped = if filters.is_empty() && !pre_aug {
        std::fs::read(format!("{dir}pretrained-cnn-digits-0-4.safetensors"))
    } else {
        Err(std::io::Error::other("custom"))
    };
    let pretrained = match shipped {
        Ok(bytes) => {
            let mut model = Cnn::new(&pretrain_network_config(), &mut Rng::new(0)).unwrap();
            deepplay_core::safetensors::load(&mut model, &bytes).expect("the shipped weights load");
            model
        }
        Err(_) => {
            let mut net = pretrain_network_config();
            for (stage, &f) in net.stages.iter_mut().zip(&filters) {
                stage.filters = f;
            }
            let (m, acc) = pretrain_network(
                &data,
                &net,
                PretrainConfig {
                    steps: pre_steps,
                    ..PretrainConfig::default()
                },
                pre_aug,
                |_, _| {},
            )
            .unwrap();
            println!("pretrain accuracy {acc:.4}");
            m
        }
    };
    println!("pretrained in {:.1} s", t0.elapsed().as_secs_f64());
    let heldout = digit_subset(&data, data.test_indices(), &NEW_DIGITS, None);
    for seed in 1..=seeds {
        let mut rng = Rng::new(seed);
        let train = digit_subset(&data, data.train_indices(), &NEW_DIGITS, Some((per_class, &mut rng)));
        let mut finetune = with_pretrained_features(&pretrained, 5, &mut Rng::new(seed)).unwrap();
        for (i, &f) in frozen.iter().enumerate() {
            set_conv_frozen(&mut finetune, i, f);
        }
        let mut scratch = Cnn::new(&finetune.config.clone(), &mut Rng::new(seed)).unwrap();
        let (mut fo, mut so) = (Optimizer::adam(lr), Optimizer::adam(lr));
        let mut batches = Batches::new(train.len(), seed);
        let t = Instant::now();
        for step in 1..=steps {
            let (x, y) = batches.next(&train, 32, augment).unwrap();
            finetune.train_step(&x, &y, &mut fo).unwrap();
            scratch.train_step(&x, &y, &mut so).unwrap();
            if step % 50 == 0 || step == steps {
                println!(
                    "seed {seed} step {step:4}  finetune {:.3}  scratch {:.3}  ({:.1} s)",
                    accuracy_on(&finetune, &heldout).unwrap(),
                    accuracy_on(&scratch, &heldout).unwrap(),
                    t.elapsed().as_secs_f64()
                );
            }
        }
    }
}
