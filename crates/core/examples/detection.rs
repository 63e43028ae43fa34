//! Trains the Detection lab's detector natively on fresh random scenes and
//! prints, as it goes, mAP@0.5 on the lab's held-out scenes and the
//! loss's parts: a quick way to choose defaults.
//! cargo run --release -p deepplay-core --example detection -- [seconds] [lr] [width] [batch] [coord] [seed]

use deepplay_core::data::scenes;
use deepplay_core::detection::{mean_average_precision, precision_recall, Truth};
use deepplay_core::models::detector::{training_batch, truths, Detector, DetectorConfig, GRID};
use deepplay_core::ops::YoloWeights;
use deepplay_core::optim::{Adam, Optimizer};
use deepplay_core::Rng;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let seconds = arg(0, 60.0);
    let lr = arg(1, 0.003) as f32;
    let width = arg(2, 8.0) as usize;
    let batch = arg(3, 16.0) as usize;
    let coord = arg(4, 5.0) as f32;
    let seed = arg(5, 1.0) as u64;
    let config = DetectorConfig {
        width,
        weights: YoloWeights {
            coord,
            ..YoloWeights::default()
        },
    };
    let mut rng = Rng::new(seed);
    let mut net = Detector::new(config, &mut rng).expect("valid config");
    let mut opt = Optimizer::Adam(Adam::new(lr));
    let mut held_rng = Rng::new(0x5ce4e);
    let held: Vec<_> = (0..200).map(|_| scenes::random_scene(&mut held_rng)).collect();
    let truth: Vec<Vec<Truth>> = held.iter().map(truths).collect();
    let images: Vec<f32> = held.iter().flat_map(|s| s.image.iter().copied()).collect();
    let start = Instant::now();
    let mut train_time = 0.0;
    let mut step = 0;
    let mut next_report = 0.0;
    loop {
        let elapsed = start.elapsed().as_secs_f64();
        if elapsed >= next_report || elapsed > seconds {
            let raw = net.predict(&images).unwrap();
            let found: Vec<_> = raw.chunks(GRID.len()).map(|r| GRID.detect(r, 0.01, 0.5)).collect();
            let map = mean_average_precision(&found, &truth, GRID.classes, 0.5).unwrap();
            let pr = precision_recall(&found, &truth, GRID.classes, 0.5, 0.5);
            println!(
                "{elapsed:6.1}s step {step:5} ({:.1} ms/step)  mAP@0.5 {map:.3}  P {:.3} R {:.3} at 0.5",
                1000.0 * train_time / step.max(1) as f64,
                pr.precision(),
                pr.recall()
            );
            next_report += 10.0;
            if elapsed > seconds {
                break;
            }
        }
        let t = Instant::now();
        let (x, targets) = training_batch(batch, &mut rng);
        let parts = net.train_step(&x, &targets, &mut opt).unwrap();
        train_time += t.elapsed().as_secs_f64();
        step += 1;
        if step % 200 == 0 {
            println!(
                "        step {step}: box {:.3} objectness {:.3} class {:.3}",
                parts.boxes, parts.objectness, parts.class
            );
        }
    }
}
