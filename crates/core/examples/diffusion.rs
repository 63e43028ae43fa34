//! Trains the Diffusion lab's denoiser natively on a 2-D point cloud and
//! prints, as it goes, the sliced Wasserstein distance of 512 fresh samples
//! to held-out data beside that of the Gaussian noise they start from: a
//! quick way to choose defaults.
//! cargo run --release -p deepplay-core --example diffusion -- [ring|moons|swiss] [steps] [lr] [width] [layers] [batch] [T] [linear|cosine] [ddim-steps] [seed]

use deepplay_core::data::points::PointCloud;
use deepplay_core::ddpm::{DdpmSchedule, ReverseProcess, ScheduleKind};
use deepplay_core::layers::Activation;
use deepplay_core::metrics::sliced_wasserstein_2d;
use deepplay_core::models::denoiser::{DenoiserConfig, PointDenoiser};
use deepplay_core::optim::Optimizer;
use deepplay_core::Rng;
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(default);
    let cloud = match args.first().map(String::as_str) {
        Some("moons") => PointCloud::Moons,
        Some("swiss") => PointCloud::SwissRoll,
        _ => PointCloud::Ring,
    };
    let steps = arg(1, 3000.0) as usize;
    let lr = arg(2, 0.002) as f32;
    let (width, layers, batch) = (arg(3, 64.0) as usize, arg(4, 3.0) as usize, arg(5, 256.0) as usize);
    let t_steps = arg(6, 100.0) as usize;
    let kind = if args.get(7).map(String::as_str) == Some("cosine") {
        ScheduleKind::Cosine
    } else {
        ScheduleKind::Linear
    };
    let ddim = arg(8, 0.0) as usize;
    let seed = arg(9, 1.0) as u64;
    let schedule = DdpmSchedule::new(kind, t_steps).expect("valid schedule");
    let mut rng = Rng::new(seed);
    let config = DenoiserConfig {
        width,
        layers,
        activation: Activation::Relu,
    };
    let mut model = PointDenoiser::new(config, &mut rng).expect("valid sizes");
    let mut opt = Optimizer::adam(lr);
    let held_out = cloud.sample(512, &mut Rng::new(seed ^ 0xd1ff));
    let noise: Vec<f32> = {
        let mut r = Rng::new(7);
        (0..1024).map(|_| r.normal()).collect()
    };
    let other = cloud.sample(512, &mut Rng::new(seed ^ 0xbeef));
    println!(
        "noise: SW {:.3}; another 512 data points: SW {:.3}",
        sliced_wasserstein_2d(&noise, &held_out, 64),
        sliced_wasserstein_2d(&other, &held_out, 64)
    );
    let start = Instant::now();
    let mut loss_sum = 0.0;
    for step in 1..=steps {
        let x0 = cloud.sample(batch, &mut rng);
        loss_sum += model.train_step(&x0, &schedule, &mut rng, &mut opt).unwrap().loss;
        if step % (steps / 6).max(1) == 0 || step == steps {
            let train_s = start.elapsed().as_secs_f64();
            let timesteps = if ddim > 0 {
                schedule.sampling_timesteps(ddim)
            } else {
                schedule.sampling_timesteps(t_steps)
            };
            let eta = (ddim > 0).then_some(0.0);
            let t0 = Instant::now();
            let mut sampler = ReverseProcess::new(512, 2, timesteps, eta, seed + step as u64);
            while let Some(t) = sampler.next_timestep() {
                let eps = model.predict_noise(&sampler.x, t).unwrap();
                sampler.step(&schedule, eps);
            }
            let radius = sampler.x.chunks(2).map(|p| p[0].hypot(p[1])).sum::<f32>() / 512.0;
            let modes = deepplay_core::data::points::ring_modes().map(|m| {
                sampler
                    .x
                    .chunks(2)
                    .filter(|p| (p[0] - m[0]).hypot(p[1] - m[1]) < 0.5)
                    .count()
            });
            println!("  mean radius {radius:.2}, near each ring mode {modes:?}");
            println!(
                "step {step:>6}  loss {:.4}  SW {:.3}  train {:.1} s ({:.2} ms/step)  sampling {:.0} ms",
                loss_sum / (steps / 6).max(1) as f32,
                sliced_wasserstein_2d(&sampler.x, &held_out, 64),
                train_s,
                1000.0 * train_s / step as f64,
                t0.elapsed().as_secs_f64() * 1000.0
            );
            loss_sum = 0.0;
        }
    }
}
