//! Transfer learning on the CNN lab's network: pretrain it on digits 0-4,
//! keep (and optionally freeze) its convolutions, give it a new head for new
//! classes, and fine-tune it on a few examples of them, beside the same
//! network trained from scratch on the same examples.
//!
//! Small labelled image sets reuse [`Mnist`] as their container (28x28
//! bytes and a label each), so batching and shift augmentation are the CNN
//! lab's own.

use crate::data::mnist::Mnist;
use crate::error::{Error, Result};
use crate::models::cnn::{Cnn, CnnConfig};
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::tensor::{argmax_rows, Tensor};
use alloc::vec::Vec;

/// The digits the shipped network was pretrained on.
pub const PRETRAIN_DIGITS: [u8; 5] = [0, 1, 2, 3, 4];
/// The digits it has never seen, for the few-shot task.
pub const NEW_DIGITS: [u8; 5] = [5, 6, 7, 8, 9];
/// Test images classified per call of [`predict`] (bounded memory).
pub const PREDICT_CHUNK: usize = 250;

/// The images of `digits` among `indices` of `data`, relabelled by their
/// position in `digits` (so `[5, 6, 7, 8, 9]` become classes 0 to 4). With
/// `per_class`, only that many of each, picked by `rng` (all if fewer).
pub fn digit_subset(
    data: &Mnist,
    indices: core::ops::Range<usize>,
    digits: &[u8],
    per_class: Option<(usize, &mut Rng)>,
) -> Mnist {
    let mut chosen: Vec<Vec<usize>> = digits
        .iter()
        .map(|&d| indices.clone().filter(|&i| data.labels[i] == d).collect())
        .collect();
    if let Some((k, rng)) = per_class {
        for list in &mut chosen {
            rng.shuffle(list);
            list.truncate(k);
        }
    }
    let mut out = Mnist {
        rows: data.rows,
        cols: data.cols,
        pixels: Vec::new(),
        labels: Vec::new(),
    };
    // Interleave the classes (one of each, then the next...) so the set reads
    // naturally in a gallery and a prefix of it has every class.
    let longest = chosen.iter().map(Vec::len).max().unwrap_or(0);
    for round in 0..longest {
        for (class, list) in chosen.iter().enumerate() {
            if let Some(&i) = list.get(round) {
                out.pixels.extend_from_slice(data.image(i));
                out.labels.push(class as u8);
            }
        }
    }
    out
}

/// Seeded minibatches over a small set: a fresh shuffle every epoch, and a
/// batch never larger than the set (a batch of 32 over 10 examples is 10).
#[derive(Clone, Debug)]
pub struct Batches {
    rng: Rng,
    order: Vec<usize>,
    cursor: usize,
}

impl Batches {
    pub fn new(len: usize, seed: u64) -> Self {
        Batches {
            rng: Rng::new(seed),
            order: (0..len).collect(),
            cursor: usize::MAX,
        }
    }

    /// The next batch of `set` (normalised, with labels), shifted by up to
    /// 2 pixels when `augment`.
    pub fn next(&mut self, set: &Mnist, batch_size: usize, augment: bool) -> Result<(Tensor, Vec<usize>)> {
        if self.order.len() != set.len() {
            self.order = (0..set.len()).collect();
            self.cursor = usize::MAX;
        }
        if set.is_empty() || batch_size == 0 {
            return Err(Error::invalid("transfer", "there are no examples to train on"));
        }
        let batch = batch_size.min(self.order.len());
        if self.cursor.saturating_add(batch) > self.order.len() {
            self.rng.shuffle(&mut self.order);
            self.cursor = 0;
        }
        let indices = &self.order[self.cursor..self.cursor + batch];
        self.cursor += batch;
        let shift = augment.then_some((&mut self.rng, 2));
        Ok(set.batch(indices, shift))
    }
}

/// How the shipped network was pretrained (`make pretrain`): the CNN lab's
/// default network on the 0-4 digits of the 8,000 training images.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PretrainConfig {
    pub seed: u64,
    pub steps: usize,
    pub learning_rate: f32,
    pub batch_size: usize,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig {
            seed: 1,
            steps: 1500,
            learning_rate: 3e-3,
            batch_size: 32,
        }
    }
}

/// The network to pretrain: the CNN lab's default with one output per
/// pretraining digit.
pub fn pretrain_network_config() -> CnnConfig {
    CnnConfig {
        classes: PRETRAIN_DIGITS.len(),
        ..CnnConfig::mnist_default()
    }
}

/// Trains a network on digits 0-4 of the training split and returns it with
/// its accuracy on digits 0-4 of the test split. Deterministic: the same
/// config gives the same weights, bit for bit, on the same machine.
pub fn pretrain(data: &Mnist, config: PretrainConfig, progress: impl FnMut(usize, f32)) -> Result<(Cnn, f32)> {
    pretrain_network(data, &pretrain_network_config(), config, false, progress)
}

/// [`pretrain`] with any network (`classes` = 5) and optional shifts.
pub fn pretrain_network(
    data: &Mnist,
    network: &CnnConfig,
    config: PretrainConfig,
    augment: bool,
    mut progress: impl FnMut(usize, f32),
) -> Result<(Cnn, f32)> {
    let train = digit_subset(data, data.train_indices(), &PRETRAIN_DIGITS, None);
    let test = digit_subset(data, data.test_indices(), &PRETRAIN_DIGITS, None);
    let mut rng = Rng::new(config.seed);
    let mut model = Cnn::new(network, &mut rng)?;
    let mut batches = Batches::new(train.len(), config.seed ^ 0x5eed);
    let mut opt = Optimizer::adam(config.learning_rate);
    for step in 1..=config.steps {
        let (x, y) = batches.next(&train, config.batch_size, augment)?;
        let stats = model.train_step(&x, &y, &mut opt)?;
        progress(step, stats.loss);
    }
    let accuracy = accuracy_on(&model, &test)?;
    Ok((model, accuracy))
}

/// Metadata keys of the shipped file.
pub mod meta {
    pub const LAB: &str = "deepplay.lab";
    pub const DIGITS: &str = "pretrain.digits";
    pub const SEED: &str = "pretrain.seed";
    pub const STEPS: &str = "pretrain.steps";
    pub const LEARNING_RATE: &str = "pretrain.learning_rate";
    pub const BATCH_SIZE: &str = "pretrain.batch_size";
    /// Accuracy on the test split's pretraining digits, 4 decimals.
    pub const ACCURACY: &str = "pretrain.test_accuracy";
}

/// What the shipped file records about how it was made.
pub fn pretrained_metadata(config: &PretrainConfig, accuracy: f32) -> Vec<(&'static str, alloc::string::String)> {
    use alloc::format;
    use alloc::string::ToString;
    let digits: Vec<alloc::string::String> = PRETRAIN_DIGITS.iter().map(|d| d.to_string()).collect();
    alloc::vec![
        (meta::LAB, "transfer-pretrained".to_string()),
        (meta::DIGITS, digits.join(",")),
        (meta::SEED, config.seed.to_string()),
        (meta::STEPS, config.steps.to_string()),
        (meta::LEARNING_RATE, format!("{}", config.learning_rate)),
        (meta::BATCH_SIZE, config.batch_size.to_string()),
        (meta::ACCURACY, format!("{accuracy:.4}")),
    ]
}

/// The shipped network, read back: the weights and the accuracy its file
/// records.
#[derive(Debug, Clone)]
pub struct Pretrained {
    pub model: Cnn,
    /// Accuracy on the test split's digits 0-4, as recorded at `make pretrain`.
    pub test_accuracy: f32,
}

/// Reads a file written by `make pretrain`: the weights must fit
/// [`pretrain_network_config`] and the metadata say what made it.
pub fn load_pretrained(bytes: &[u8]) -> Result<Pretrained> {
    let mut model = Cnn::new(&pretrain_network_config(), &mut Rng::new(0))?;
    let metadata = crate::safetensors::load(&mut model, bytes)?;
    if metadata.get(meta::LAB).map(alloc::string::String::as_str) != Some("transfer-pretrained") {
        return Err(Error::Decode(
            "this file is not the pretrained network of the Transfer lab".into(),
        ));
    }
    let test_accuracy = metadata
        .get(meta::ACCURACY)
        .and_then(|a| parse_fraction(a))
        .ok_or_else(|| Error::Decode("the pretrained file does not record its accuracy".into()))?;
    Ok(Pretrained { model, test_accuracy })
}

/// A fraction in [0, 1] written as `0.dddd` or `1` (at most 9 decimals).
/// By hand: `str::parse::<f32>` would link 10 KB of float parsing into
/// every worker that can fetch this file.
fn parse_fraction(text: &str) -> Option<f32> {
    let (whole, decimals) = text.split_once('.').unwrap_or((text, ""));
    if decimals.len() > 9 || !decimals.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole = match whole {
        "0" => 0.0,
        "1" => 1.0,
        _ => return None,
    };
    let digits: u32 = if decimals.is_empty() { 0 } else { decimals.parse().ok()? };
    let value = whole + digits as f64 / libm::pow(10.0, decimals.len() as f64);
    (value <= 1.0).then_some(value as f32)
}

/// The predicted class of images `range` of `set`.
pub fn predict(model: &Cnn, set: &Mnist, range: core::ops::Range<usize>) -> Result<Vec<usize>> {
    let mut predictions = Vec::with_capacity(range.len());
    let indices: Vec<usize> = range.collect();
    for chunk in indices.chunks(PREDICT_CHUNK) {
        let (x, _) = set.batch(chunk, None);
        predictions.extend(argmax_rows(&model.predict_proba(&x)?));
    }
    Ok(predictions)
}

/// The fraction of `set` that `model` classifies right (0 for an empty set).
pub fn accuracy_on(model: &Cnn, set: &Mnist) -> Result<f32> {
    let predictions = predict(model, set, 0..set.len())?;
    let hits = predictions
        .iter()
        .zip(&set.labels)
        .filter(|(&p, &l)| p == usize::from(l))
        .count();
    Ok(hits as f32 / set.len().max(1) as f32)
}

/// The network for `classes` new classes, built from `rng` like any new
/// network, with the convolutions' weights of `pretrained` copied in: the
/// features it learned are kept, the head is new. Built from the same seed
/// as a network from scratch, the two start with the same head.
pub fn with_pretrained_features(pretrained: &Cnn, classes: usize, rng: &mut Rng) -> Result<Cnn> {
    let config = CnnConfig {
        classes,
        ..pretrained.config.clone()
    };
    let mut model = Cnn::new(&config, rng)?;
    for (conv, source) in model.convs.iter_mut().zip(&pretrained.convs) {
        conv.weight.value.assign(&source.weight.value);
        conv.bias.value.assign(&source.bias.value);
    }
    Ok(model)
}

/// Freezes (or unfreezes) conv layer `layer` (from 0): its weights enter
/// the graph as constants and the optimizer leaves them alone.
pub fn set_conv_frozen(model: &mut Cnn, layer: usize, frozen: bool) {
    if let Some(conv) = model.convs.get_mut(layer) {
        conv.weight.frozen = frozen;
        conv.bias.frozen = frozen;
    }
}

/// How far a layer's weights moved: ||now - before|| / ||before|| (the
/// change relative to the layer's size; 0 when unchanged).
pub fn relative_change(now: &Tensor, before: &Tensor) -> f32 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (&a, &b) in now.iter().zip(before.iter()) {
        diff += f64::from(a - b) * f64::from(a - b);
        norm += f64::from(b) * f64::from(b);
    }
    if norm == 0.0 {
        return libm::sqrt(diff) as f32;
    }
    libm::sqrt(diff / norm) as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Module;
    use alloc::vec;

    /// 40 images: digit d is a bar at row 2d, 4 of each digit.
    fn bars() -> Mnist {
        let mut data = Mnist {
            rows: 28,
            cols: 28,
            pixels: vec![0; 40 * 784],
            labels: Vec::new(),
        };
        for i in 0..40 {
            let d = i % 10;
            for x in 4..24 {
                data.pixels[i * 784 + (2 * d + 4) * 28 + x] = 255;
            }
            data.labels.push(d as u8);
        }
        data
    }

    #[test]
    fn subsets_relabel_pick_per_class_and_interleave() {
        let data = bars();
        let all = digit_subset(&data, 0..40, &NEW_DIGITS, None);
        assert_eq!(all.len(), 20);
        assert_eq!(&all.labels[..5], &[0, 1, 2, 3, 4]);
        // Class 0 here is digit 5: its bar is at row 14.
        assert_eq!(all.image(0)[14 * 28 + 10], 255);
        let mut rng = Rng::new(3);
        let two = digit_subset(&data, 0..40, &NEW_DIGITS, Some((2, &mut rng)));
        assert_eq!(two.len(), 10);
        for class in 0..5u8 {
            assert_eq!(two.labels.iter().filter(|&&l| l == class).count(), 2);
        }
        let again = digit_subset(&data, 0..40, &NEW_DIGITS, Some((2, &mut Rng::new(3))));
        assert_eq!(two.pixels, again.pixels, "same seed, same examples");
    }

    #[test]
    fn batches_never_exceed_the_set_and_cover_it_each_epoch() {
        let set = digit_subset(&bars(), 0..40, &[1, 2, 3], None); // 12 images
        let mut batches = Batches::new(set.len(), 1);
        let (x, y) = batches.next(&set, 32, false).unwrap();
        assert_eq!(x.shape(), &[12, 1, 28, 28]);
        let mut seen = y.clone();
        seen.sort_unstable();
        assert_eq!(seen, vec![0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]);
        let (x, _) = batches.next(&set, 5, true).unwrap();
        assert_eq!(x.shape(), &[5, 1, 28, 28]);
        let empty = digit_subset(&bars(), 0..0, &[1], None);
        assert!(batches.next(&empty, 4, false).is_err());
    }

    #[test]
    fn features_are_copied_the_head_is_new_and_frozen_layers_do_not_move() {
        let data = bars();
        let mut rng = Rng::new(1);
        let pretrained = Cnn::new(&pretrain_network_config(), &mut rng).unwrap();
        let mut model = with_pretrained_features(&pretrained, 3, &mut Rng::new(7)).unwrap();
        let scratch = Cnn::new(
            &CnnConfig {
                classes: 3,
                ..CnnConfig::mnist_default()
            },
            &mut Rng::new(7),
        )
        .unwrap();
        assert_eq!(model.convs[1].weight.value, pretrained.convs[1].weight.value);
        assert_eq!(model.fc.weight.value.shape(), &[3, 256]);
        assert_eq!(model.fc.weight.value, scratch.fc.weight.value, "same seed, same head");
        set_conv_frozen(&mut model, 0, true);
        let before: Vec<Tensor> = model.params().iter().map(|p| p.value.clone()).collect();
        let set = digit_subset(&data, 0..40, &[1, 2, 3], None);
        let mut batches = Batches::new(set.len(), 1);
        let mut opt = Optimizer::adam(1e-2);
        for _ in 0..5 {
            let (x, y) = batches.next(&set, 8, true).unwrap();
            model.train_step(&x, &y, &mut opt).unwrap();
        }
        let after = model.params();
        assert_eq!(after[0].value, before[0], "conv1.weight is bit-identical");
        assert_eq!(after[1].value, before[1], "conv1.bias is bit-identical");
        assert_eq!(relative_change(&after[0].value, &before[0]), 0.0);
        assert!(relative_change(&after[2].value, &before[2]) > 0.0, "conv2 trained");
        assert!(relative_change(&after[4].value, &before[4]) > 0.0, "the head trained");
    }

    #[test]
    fn fractions_parse_by_hand() {
        assert_eq!(parse_fraction("0.9882"), Some(0.9882));
        assert_eq!(parse_fraction("1"), Some(1.0));
        assert_eq!(parse_fraction("0"), Some(0.0));
        for bad in ["", "1.5", "2", "0.-1", "0.1e3", "abc", "0.1234567890"] {
            assert_eq!(parse_fraction(bad), None, "{bad}");
        }
    }

    #[test]
    fn relative_change_is_the_norm_ratio() {
        let before = crate::tensor::from_vec(&[2], vec![3.0, 4.0]).unwrap();
        let now = crate::tensor::from_vec(&[2], vec![3.0, 4.5]).unwrap();
        assert!((relative_change(&now, &before) - 0.1).abs() < 1e-6);
    }

    /// `make pretrain` reproduces the shipped file: the same steps from the
    /// same seed give the accuracy it records, and that accuracy is what
    /// the shipped weights score.
    #[test]
    fn pretraining_reproduces_the_shipped_file() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/assets/data/");
        let read = |name: &str| std::fs::read(alloc::format!("{dir}{name}")).unwrap();
        let data = Mnist::from_gzip(
            &read("mnist-10k-images-idx3-ubyte.gz"),
            &read("mnist-10k-labels-idx1-ubyte.gz"),
        )
        .unwrap();
        let shipped = load_pretrained(&read("pretrained-cnn-digits-0-4.safetensors")).unwrap();
        let test = digit_subset(&data, data.test_indices(), &PRETRAIN_DIGITS, None);
        let measured = accuracy_on(&shipped.model, &test).unwrap();
        assert!(
            (measured - shipped.test_accuracy).abs() < 5e-5,
            "{measured} vs {}",
            shipped.test_accuracy
        );
        assert!(shipped.test_accuracy > 0.97);
        let (model, accuracy) = pretrain(&data, PretrainConfig::default(), |_, _| {}).unwrap();
        assert!(
            (accuracy - shipped.test_accuracy).abs() < 5e-5,
            "{accuracy} vs {}",
            shipped.test_accuracy
        );
        for (a, b) in model.params().iter().zip(shipped.model.params()) {
            assert_eq!(a.name, b.name);
            let worst = a
                .value
                .iter()
                .zip(b.value.iter())
                .map(|(x, y)| (x - y).abs())
                .fold(0.0, f32::max);
            assert!(worst < 1e-4, "{}: {worst}", a.name);
        }
        // Anything else is refused.
        assert!(load_pretrained(b"nonsense").is_err());
        let other = crate::safetensors::save(&model, &[("deepplay.lab", "cnn")]);
        assert!(load_pretrained(&other).is_err());
    }
}
