//! Trains the Attention lab's Transformer natively and prints held-out
//! accuracy as it goes, with positional encoding and without: a quick way to
//! choose defaults and to see the lesson in numbers.
//! cargo run --release -p deepplay-core --example attention -- [who|reverse|sort] [steps] [lr] [d_model] [heads] [layers] [batch] [seed] [digits]

use deepplay_core::data::language::TokenTask;
use deepplay_core::models::transformer::{Positions, Transformer, TransformerConfig};
use deepplay_core::optim::Optimizer;
use deepplay_core::Rng;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let task = match args.first().map(String::as_str) {
        Some("reverse") => TokenTask::Reverse,
        Some("sort") => TokenTask::Sort,
        _ => TokenTask::WhoDidWhat,
    };
    let steps = arg(1, 1000.0) as usize;
    let lr = arg(2, 0.003) as f32;
    let (d_model, heads, layers) = (arg(3, 32.0) as usize, arg(4, 4.0) as usize, arg(5, 2.0) as usize);
    let (batch, seed, digits) = (arg(6, 32.0) as usize, arg(7, 1.0) as u64, arg(8, 8.0) as usize);
    for positions in [Positions::Sinusoidal, Positions::Learned, Positions::None] {
        let config = TransformerConfig {
            vocab: task.vocab_size(),
            length: task.length(digits),
            d_model,
            heads,
            layers,
            ff: 2 * d_model,
            classes: task.classes(),
            every_position: task.every_position(),
            positions,
        };
        let mut rng = Rng::new(seed);
        let mut model = Transformer::new(config, &mut rng).expect("valid sizes");
        let held_out = task.generate(256, digits, &mut Rng::new(seed ^ 0xa77e));
        let mut opt = Optimizer::adam(lr);
        let start = Instant::now();
        let mut reached = None;
        for step in 1..=steps {
            let stats = model
                .train_step(&task.generate(batch, digits, &mut rng), &mut opt)
                .expect("step");
            if step % 50 == 0 {
                let accuracy = model.accuracy(&held_out).expect("accuracy");
                let seconds = start.elapsed().as_secs_f64();
                println!(
                    "{positions:?} step {step}: loss {:.4}, held-out {:.1}% ({seconds:.1} s)",
                    stats.loss,
                    accuracy * 100.0
                );
                if accuracy >= 0.99 && reached.is_none() {
                    reached = Some((step, seconds));
                }
            }
        }
        let per_step = start.elapsed().as_secs_f64() * 1000.0 / steps as f64;
        match reached {
            Some((step, s)) => println!("{positions:?}: 99% at step {step} ({s:.1} s); {per_step:.2} ms per step"),
            None => println!("{positions:?}: never 99%; {per_step:.2} ms per step"),
        }
    }
}
