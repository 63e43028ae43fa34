//! End-to-end: a small MLP learns a 2-D dataset, deterministically.

use deepplay_core::data::synthetic::{Dataset2d, DatasetKind};
use deepplay_core::layers::Activation;
use deepplay_core::models::mlp::{Mlp, MlpConfig};
use deepplay_core::optim::Optimizer;
use deepplay_core::Rng;

/// Train for `steps` minibatches; returns (first loss, last-50 mean loss, full-data accuracy).
fn train(kind: DatasetKind, seed: u64, steps: usize) -> (f32, f32, f32) {
    let mut rng = Rng::new(seed);
    let data = Dataset2d::generate(kind, 100, 0.05, &mut rng);
    let config = MlpConfig {
        sizes: vec![2, 32, 32, data.classes],
        activation: Activation::Tanh,
    };
    let mut model = Mlp::new(&config, &mut rng).unwrap();
    let mut opt = Optimizer::adam(0.02);
    let mut order: Vec<usize> = (0..data.len()).collect();
    let mut losses = Vec::new();
    for step in 0..steps {
        if step % (data.len() / 32) == 0 {
            rng.shuffle(&mut order);
        }
        let start = (step * 32) % (data.len() - 32);
        let (x, y) = data.batch(&order[start..start + 32]);
        losses.push(model.train_step(&x, &y, &mut opt).unwrap().loss);
    }
    let all: Vec<usize> = (0..data.len()).collect();
    let (x, y) = data.batch(&all);
    let probs = model.predict_proba(&x).unwrap();
    let accuracy = deepplay_core::metrics::accuracy(&probs, &y);
    let tail = losses[steps - 50..].iter().sum::<f32>() / 50.0;
    (losses[0], tail, accuracy)
}

#[test]
fn mlp_learns_the_spiral() {
    let (first, last, accuracy) = train(DatasetKind::Spiral, 42, 1500);
    assert!(first > 0.9, "initial loss {first} should be near ln 3");
    assert!(last < 0.25, "loss only fell to {last}");
    assert!(accuracy > 0.93, "accuracy {accuracy}");
}

#[test]
fn mlp_learns_moons_and_circles() {
    for kind in [DatasetKind::Moons, DatasetKind::Circles] {
        let (_, last, accuracy) = train(kind, 7, 600);
        assert!(
            last < 0.2 && accuracy > 0.95,
            "{kind:?}: loss {last}, accuracy {accuracy}"
        );
    }
}

#[test]
fn same_seed_gives_bit_identical_training() {
    assert_eq!(train(DatasetKind::Spiral, 3, 100), train(DatasetKind::Spiral, 3, 100));
    assert_ne!(train(DatasetKind::Spiral, 3, 100), train(DatasetKind::Spiral, 4, 100));
}
