//! Trains the Sequences lab's three networks natively on one task and
//! prints held-out accuracy as it goes: a quick way to choose defaults.
//! cargo run --release -p deepplay-core --example sequences -- [length] [hidden] [steps] [lr] [batch] [seed] [adam|sgd]

use deepplay_core::data::sequences::SequenceTask;
use deepplay_core::models::recurrent::{CellKind, RecurrentConfig, RecurrentNet};
use deepplay_core::optim::Optimizer;
use deepplay_core::Rng;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let (length, hidden, steps) = (arg(0, 40.0) as usize, arg(1, 32.0) as usize, arg(2, 2000.0) as usize);
    let (lr, batch) = (arg(3, 0.01) as f32, arg(4, 32.0) as usize);
    let seed = arg(5, 7.0) as u64;
    let sgd = args.get(6).is_some_and(|a| a == "sgd");
    let optimizer = |lr: f32| {
        if sgd {
            Optimizer::sgd(lr, 0.9, 0.0)
        } else {
            Optimizer::adam(lr)
        }
    };
    let task = SequenceTask::FirstSymbol;
    let mut rng = Rng::new(seed);
    let held_out = task.generate(length, 256, &mut Rng::new(99));
    let mut models: Vec<(RecurrentNet, Optimizer, f64)> = CellKind::ALL
        .iter()
        .map(|&kind| {
            let config = RecurrentConfig {
                kind,
                task,
                hidden_size: hidden,
            };
            (RecurrentNet::new(config, &mut rng).unwrap(), optimizer(lr), 0.0)
        })
        .collect();
    for step in 1..=steps {
        let batch = task.generate(length, batch, &mut rng);
        let mut ratios = Vec::new();
        for (model, opt, time) in &mut models {
            let start = Instant::now();
            let stats = model.train_step(&batch, opt, Some(1.0)).unwrap();
            *time += start.elapsed().as_secs_f64();
            let n = &stats.hidden_grad_norms;
            ratios.push(n[0] / n[n.len() - 1]);
        }
        if step % 100 == 0 {
            let line: Vec<String> = models
                .iter()
                .zip(&ratios)
                .map(|((m, _, t), r)| {
                    format!(
                        "{} {:.3} ({:.2} ms/step, first/last {:.1e})",
                        m.config.kind.name(),
                        m.accuracy(&held_out).unwrap(),
                        t * 1000.0 / step as f64,
                        r
                    )
                })
                .collect();
            println!("step {step}: {}", line.join("  "));
        }
    }
}
