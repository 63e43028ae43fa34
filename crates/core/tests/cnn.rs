//! The CNN lab's default network on the real MNIST-10k files: a short seeded
//! run learns, and the same seed gives the same numbers.

use deepplay_core::data::mnist::Mnist;
use deepplay_core::metrics::accuracy;
use deepplay_core::models::cnn::{Cnn, CnnConfig};
use deepplay_core::optim::Optimizer;
use deepplay_core::Rng;

fn mnist() -> Mnist {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/assets/data/");
    let images = std::fs::read(format!("{dir}mnist-10k-images-idx3-ubyte.gz")).unwrap();
    let labels = std::fs::read(format!("{dir}mnist-10k-labels-idx1-ubyte.gz")).unwrap();
    Mnist::from_gzip(&images, &labels).unwrap()
}

/// (mean loss of the last 20 steps, accuracy on 500 test digits)
fn short_run(data: &Mnist, seed: u64, steps: usize) -> (f32, f32) {
    let mut rng = Rng::new(seed);
    let mut model = Cnn::new(&CnnConfig::mnist_default(), &mut rng).unwrap();
    let mut opt = Optimizer::adam(3e-3);
    let mut order: Vec<usize> = data.train_indices().collect();
    rng.shuffle(&mut order);
    let mut losses = Vec::new();
    for step in 0..steps {
        let (x, y) = data.batch(&order[step * 32..(step + 1) * 32], None);
        losses.push(model.train_step(&x, &y, &mut opt).unwrap().loss);
    }
    let test: Vec<usize> = data.test_indices().take(500).collect();
    let (x, y) = data.batch(&test, None);
    let acc = accuracy(&model.predict_proba(&x).unwrap(), &y);
    (losses[steps - 20..].iter().sum::<f32>() / 20.0, acc)
}

#[test]
fn the_real_files_decode_with_the_documented_class_counts() {
    let data = mnist();
    assert_eq!((data.len(), data.rows, data.cols), (10_000, 28, 28));
    let mut counts = [0usize; 10];
    data.labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    assert_eq!(data.train_indices().len(), 8000);
    assert_eq!(data.test_indices().len(), 2000);
}

#[test]
fn default_cnn_learns_mnist_deterministically() {
    let data = mnist();
    let (loss, acc) = short_run(&data, 11, 200);
    assert!(loss < 0.6, "loss {loss} should be well below ln 10 = 2.30");
    assert!(acc > 0.8, "test accuracy {acc}");
    assert_eq!(short_run(&data, 11, 30), short_run(&data, 11, 30));
}

#[test]
fn trainer_evaluates_the_whole_test_split_in_chunks() {
    use deepplay_core::models::cnn_trainer::{CnnHyper, CnnTrainer};
    let data = mnist();
    let mut t = CnnTrainer::new(&data, &CnnConfig::mnist_default(), CnnHyper::default(), 5).unwrap();
    for _ in 0..150 {
        let s = t.train_step(&data).unwrap();
        assert!(s.loss.is_finite());
    }
    let mut result = None;
    let mut calls = 0;
    while result.is_none() {
        result = t.evaluate_chunk(&data, 500).unwrap();
        calls += 1;
    }
    let eval = result.unwrap();
    assert_eq!(calls, 4, "2,000 test digits in chunks of 500");
    assert_eq!(eval.confusion.iter().sum::<u32>(), 2000);
    assert_eq!(eval.confusion.shape(), [10, 10]);
    let diagonal: u32 = (0..10).map(|i| eval.confusion.get(i, i)).sum();
    assert_eq!(u64::from(diagonal), eval.confusion.correct());
    assert!((eval.accuracy - diagonal as f32 / 2000.0).abs() < 1e-6);
    assert_eq!(eval.mistakes.len(), 2000 - diagonal as usize);
    assert!(eval.accuracy > 0.85, "{}", eval.accuracy);
    let bad = CnnHyper {
        learning_rate: -1.0,
        ..CnnHyper::default()
    };
    assert!(CnnTrainer::new(&data, &CnnConfig::mnist_default(), bad, 5).is_err());
}

/// A test digit drawn big and off-centre on a 200x200 canvas, then put back
/// through the drawing preprocessing, is recognised about as well as the
/// original: the preprocessing reproduces MNIST's own centring and scaling.
#[test]
fn drawings_preprocessed_like_mnist_are_recognised_like_test_digits() {
    use deepplay_core::data::mnist::center_like_mnist;
    use deepplay_core::models::cnn_trainer::{CnnHyper, CnnTrainer};
    let data = mnist();
    let mut t = CnnTrainer::new(&data, &CnnConfig::mnist_default(), CnnHyper::default(), 8).unwrap();
    for _ in 0..300 {
        t.train_step(&data).unwrap();
    }
    let digits: Vec<usize> = data.test_indices().take(300).collect();
    let (mut direct, mut drawn) = (0, 0);
    for (k, &i) in digits.iter().enumerate() {
        let label = usize::from(data.labels[i]);
        let ink: Vec<f32> = data.image(i).iter().map(|&p| f32::from(p) / 255.0).collect();
        let argmax = |p: Vec<f32>| (0..10).max_by(|&a, &b| p[a].total_cmp(&p[b])).unwrap();
        direct += usize::from(argmax(t.model.classify_ink(&ink).unwrap()) == label);
        // Scale 5x (nearest neighbour) onto a 200x200 canvas at an offset.
        let (off_x, off_y) = (10 + (k * 7) % 50, 5 + (k * 13) % 50);
        let mut canvas = vec![0.0f32; 200 * 200];
        for y in 0..140 {
            for x in 0..140 {
                canvas[(y + off_y) * 200 + x + off_x] = ink[(y / 5) * 28 + x / 5];
            }
        }
        let again = center_like_mnist(&canvas, 200, 200);
        drawn += usize::from(argmax(t.model.classify_ink(&again).unwrap()) == label);
    }
    let (direct, drawn) = (direct as f32 / 300.0, drawn as f32 / 300.0);
    assert!(direct > 0.85, "direct {direct}");
    assert!(drawn > direct - 0.05, "drawn {drawn} vs direct {direct}");
}
