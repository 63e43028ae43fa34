//! Trains the GAN lab's generator and discriminator natively on a 2-D point
//! cloud and prints, as it goes, the sliced Wasserstein distance of 1000
//! samples to held-out data and the modes they cover: a quick way to choose
//! defaults, and to see how often (over seeds) a setting gets there.
//! cargo run --release -p deepplay-core --example gan -- [ring|grid|moons|line|swiss] [steps] [lr] [width] [layers] [batch] [ns|mm|ls|wgan] [d-steps] [noise-dim] [seeds]

use deepplay_core::data::points::PointCloud;
use deepplay_core::layers::Activation;
use deepplay_core::metrics::{mode_coverage, sliced_wasserstein_2d};
use deepplay_core::models::gan::{Gan, GanConfig, GanLoss, NetConfig};
use deepplay_core::optim::{Adam, Optimizer};
use deepplay_core::Rng;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let cloud = match args.first().map(String::as_str) {
        Some("grid") => PointCloud::Grid,
        Some("moons") => PointCloud::Moons,
        Some("line") => PointCloud::Line,
        Some("swiss") => PointCloud::SwissRoll,
        _ => PointCloud::Ring,
    };
    let steps = arg(1, 5000.0) as usize;
    let lr = arg(2, 0.001) as f32;
    let (width, layers, batch) = (arg(3, 64.0) as usize, arg(4, 2.0) as usize, arg(5, 128.0) as usize);
    let loss = match args.get(6).map(String::as_str) {
        Some("mm") => GanLoss::Minimax,
        Some("ls") => GanLoss::LeastSquares,
        Some("wgan") => GanLoss::Wasserstein,
        _ => GanLoss::NonSaturating,
    };
    let d_steps = arg(7, 1.0) as usize;
    let noise_dim = arg(8, 2.0) as usize;
    let seeds = arg(9, 1.0) as u64;
    let net = NetConfig {
        width,
        layers,
        activation: Activation::Relu,
    };
    let config = GanConfig {
        noise_dim,
        generator: net,
        discriminator: net,
        loss,
        gradient_penalty: 10.0,
    };
    let held_out = cloud.sample(2000, &mut Rng::new(99));
    // A single Gaussian fitted to the data: the score to beat.
    let fitted = deepplay_core::data::points::fitted_gaussian(&held_out, 1000, &mut Rng::new(7));
    let fresh = cloud.sample(1000, &mut Rng::new(8));
    println!(
        "fitted Gaussian {:.3}, fresh data {:.3}",
        sliced_wasserstein_2d(&fitted, &held_out, 64),
        sliced_wasserstein_2d(&fresh, &held_out, 64)
    );
    for seed in 1..=seeds {
        let mut rng = Rng::new(seed);
        let mut gan = Gan::new(config, &mut rng).expect("valid config");
        let adam = || {
            let mut o = Adam::new(lr);
            o.beta1 = 0.5;
            Optimizer::Adam(o)
        };
        let (mut d_opt, mut g_opt) = (adam(), adam());
        let mut eval_rng = Rng::new(seed ^ 0xe7a1);
        let start = Instant::now();
        let mut line = String::new();
        for step in 1..=steps {
            for _ in 0..d_steps {
                let real = cloud.sample(batch, &mut rng);
                gan.discriminator_step(&real, &mut rng, &mut d_opt).expect("step");
            }
            gan.generator_step(batch, &mut rng, &mut g_opt).expect("step");
            if step % (steps / 10).max(1) == 0 {
                let z = gan.noise(1000, &mut eval_rng);
                let samples = gan.generate(&z).expect("samples");
                let distance = sliced_wasserstein_2d(&samples, &held_out, 64);
                let covered = cloud
                    .modes()
                    .map(|m| mode_coverage(&samples, &m.centres, 3.0 * m.spread, 0.25).covered);
                line += &format!(
                    " {step}:{distance:.3}/{}",
                    covered.map_or("-".into(), |c| c.to_string())
                );
            }
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / steps as f64;
        println!("seed {seed} ({ms:.2} ms/step):{line}");
    }
}
