//! The Transfer lab's trainer: the shipped network pretrained on digits 0-4
//! gets a new head and is fine-tuned (its chosen conv layers frozen) on a
//! few examples of new classes, while the same network from scratch (same
//! seed, so the same new head) trains on the very same batches. Both are
//! measured on held-out examples a chunk at a time between training slices.
//! Plain Rust (no browser), tested natively; the worker's runtime drives it
//! through [`Lab`].

use std::rc::Rc;

use deepplay_core::data::mnist::Mnist;
use deepplay_core::layers::Module;
use deepplay_core::limits;
use deepplay_core::models::cnn::Cnn;
use deepplay_core::models::transfer::{
    digit_subset, predict, relative_change, set_conv_frozen, with_pretrained_features, Batches, Pretrained, NEW_DIGITS,
};
use deepplay_core::optim::Optimizer;
use deepplay_core::{Rng, Tensor};

use super::protocol::{
    metrics, tensors, Command, DrawnClass, Hyper, Reply, TaskChoice, TransferProtocol, TransferSettings, CONV_LAYERS,
    GALLERY_PER_CLASS, MAX_CLASSES, MAX_EXAMPLES_PER_CLASS, MAX_NAME_CHARS, MIN_CLASSES, PER_CLASS_CHOICES,
};
use crate::worker::datasets::{DatasetId, Datasets};
use crate::worker::lab::{check_learning_rate, check_metadata, Applied, Lab, Losses};
use crate::worker::protocol::{NamedTensor, Snapshot};

/// Held-out images evaluated per chunk (each by both networks).
pub const EVAL_CHUNK: usize = 200;
/// While training, one chunk is evaluated this often.
pub const EVAL_INTERVAL_MS: f64 = 120.0;
/// A loss this far above ln(classes) means a network has blown up.
const LOSS_EXPLOSION: f32 = 100.0;
/// Pixels of one image.
const PIXELS: usize = 28 * 28;

/// Settings that can be trained with, or what is wrong with them.
pub fn validate(s: &TransferSettings) -> Result<(), String> {
    check_learning_rate(s.learning_rate)?;
    limits::BATCH_SIZE
        .check("transfer", "batch size", s.batch_size)
        .map_err(|e| e.to_string())?;
    if !PER_CLASS_CHOICES.contains(&s.per_class) {
        return Err(format!(
            "Examples per class must be one of {PER_CLASS_CHOICES:?}, got {}.",
            s.per_class
        ));
    }
    if s.drawn.len() > MAX_CLASSES {
        return Err(format!("At most {MAX_CLASSES} classes, got {}.", s.drawn.len()));
    }
    for class in &s.drawn {
        if class.name.chars().count() > MAX_NAME_CHARS {
            return Err(format!("A class name has at most {MAX_NAME_CHARS} characters."));
        }
        if class.examples.len() > MAX_EXAMPLES_PER_CLASS {
            return Err(format!(
                "Class \u{201c}{}\u{201d} has {} examples; at most {MAX_EXAMPLES_PER_CLASS} are kept.",
                class.name,
                class.examples.len()
            ));
        }
        if class.examples.iter().any(|e| e.len() != PIXELS) {
            return Err(format!(
                "An example of \u{201c}{}\u{201d} is not a 28x28 image.",
                class.name
            ));
        }
    }
    Ok(())
}

/// How many of a class's `n` drawings are held out to measure accuracy:
/// none of fewer than 3 (every one is needed to train), else a quarter
/// (at least one), the last ones drawn.
pub fn held_out_count(n: usize) -> usize {
    if n < 3 {
        0
    } else {
        (n / 4).max(1)
    }
}

/// The visitor's classes as a training set and a held-out set.
fn drawn_sets(classes: &[DrawnClass]) -> (Mnist, Mnist) {
    let empty = || Mnist {
        rows: 28,
        cols: 28,
        pixels: Vec::new(),
        labels: Vec::new(),
    };
    let (mut train, mut heldout) = (empty(), empty());
    for (label, class) in classes.iter().enumerate() {
        let keep = class.examples.len() - held_out_count(class.examples.len());
        for (i, example) in class.examples.iter().enumerate() {
            let set = if i < keep { &mut train } else { &mut heldout };
            set.pixels.extend_from_slice(example);
            set.labels.push(label as u8);
        }
    }
    (train, heldout)
}

/// The visitor's classes as parameters of a "model", so that the
/// safetensors writer stores them: `examples.{i}` is class i's `[n, 28, 28]`.
struct ExampleTensors(Vec<deepplay_core::Param>);

impl Module for ExampleTensors {
    fn params(&self) -> Vec<&deepplay_core::Param> {
        self.0.iter().collect()
    }
    fn params_mut(&mut self) -> Vec<&mut deepplay_core::Param> {
        self.0.iter_mut().collect()
    }
}

/// How an examples file says what it is.
const EXAMPLES_LAB: (&str, &str) = ("deepplay.lab", "transfer-examples");

/// The visitor's classes as a safetensors file: tensor `examples.{i}` holds
/// class i's drawings `[n, 28, 28]` as ink in [0, 1]; the metadata names
/// the classes (`class.{i}`). A class with no drawings has no tensor.
pub fn examples_file(classes: &[DrawnClass]) -> Vec<u8> {
    let tensors = classes
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.examples.is_empty())
        .map(|(i, c)| {
            let data = c.examples.iter().flatten().map(|&p| f32::from(p) / 255.0).collect();
            let value = deepplay_core::tensor::from_vec(&[c.examples.len(), 28, 28], data).expect("sized");
            deepplay_core::Param::new(format!("examples.{i}"), value)
        })
        .collect();
    let count = classes.len().to_string();
    let names: Vec<(String, String)> = classes
        .iter()
        .enumerate()
        .map(|(i, c)| (format!("class.{i}"), c.name.clone()))
        .collect();
    let mut metadata: Vec<(&str, &str)> = vec![EXAMPLES_LAB, ("classes", &count)];
    metadata.extend(names.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    deepplay_core::safetensors::save(&ExampleTensors(tensors), &metadata)
}

/// Reads a file of [`examples_file`]; a clear message for anything else.
pub fn read_examples(bytes: &[u8]) -> Result<Vec<DrawnClass>, String> {
    let fail = |why: String| format!("Could not read these examples: {why}. Your classes are unchanged.");
    let (tensors, metadata) = deepplay_core::safetensors::parse(bytes).map_err(|e| fail(e.to_string()))?;
    if metadata.get(EXAMPLES_LAB.0).map(String::as_str) != Some(EXAMPLES_LAB.1) {
        return Err(fail("this is not a file of examples exported by this lab".into()));
    }
    let count: usize = metadata
        .get("classes")
        .and_then(|c| c.parse().ok())
        .filter(|&c| c <= MAX_CLASSES)
        .ok_or_else(|| fail(format!("it must name from 0 to {MAX_CLASSES} classes")))?;
    let mut classes = Vec::with_capacity(count);
    for i in 0..count {
        let name = metadata
            .get(&format!("class.{i}"))
            .cloned()
            .unwrap_or_else(|| format!("Class {}", i + 1));
        let examples = match tensors.get(&format!("examples.{i}")) {
            None => Vec::new(),
            Some(t) => {
                let shape = t.shape();
                if shape.len() != 3 || shape[1] != 28 || shape[2] != 28 {
                    return Err(fail(format!("class {name}'s drawings are {shape:?}, not [n, 28, 28]")));
                }
                let values: Vec<f32> = t.iter().copied().collect();
                values
                    .chunks_exact(PIXELS)
                    .map(|image| {
                        image
                            .iter()
                            .map(|v| if v.is_finite() { (v.clamp(0.0, 1.0) * 255.0).round() as u8 } else { 0 })
                            .collect()
                    })
                    .collect()
            }
        };
        classes.push(DrawnClass { name, examples });
    }
    let as_settings = TransferSettings {
        drawn: classes.clone(),
        ..TransferSettings::default()
    };
    validate(&as_settings).map_err(fail)?;
    Ok(classes)
}

/// A pass over the held-out set in progress.
#[derive(Clone, Copy, Debug, Default)]
struct Pass {
    next: usize,
    step: u64,
    hits: [usize; 2],
}

/// A finished pass: held-out accuracy of the fine-tuned and the scratch
/// network, and the step it started at.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracies {
    pub finetune: f32,
    pub scratch: f32,
    pub step: u64,
}

pub struct TransferLab {
    settings: TransferSettings,
    seed: u64,
    mnist: Rc<Mnist>,
    pretrained: Rc<Pretrained>,
    /// Names of the classes being learned ("5" ... "9", or the visitor's).
    class_names: Vec<String>,
    train: Mnist,
    heldout: Mnist,
    finetune: Cnn,
    scratch: Cnn,
    finetune_opt: Optimizer,
    scratch_opt: Optimizer,
    /// Each network's weights at step 0 (the fine-tuned one's convs are the
    /// pretrained ones), for how far each layer moved.
    finetune_start: Vec<Tensor>,
    scratch_start: Vec<Tensor>,
    batches: Batches,
    step: u64,
    last_batch: usize,
    pass: Pass,
    accuracies: Option<Accuracies>,
    last_eval_ms: f64,
    diverged: Option<String>,
}

/// Weights (not biases) of each layer: conv1, conv2, the head.
fn layer_weights(model: &Cnn) -> Vec<Tensor> {
    model
        .convs
        .iter()
        .map(|c| c.weight.value.clone())
        .chain([model.fc.weight.value.clone()])
        .collect()
}

impl TransferLab {
    pub fn new(settings: TransferSettings, seed: u64, mnist: Rc<Mnist>, pretrained: Rc<Pretrained>) -> Result<Self, String> {
        validate(&settings)?;
        let (class_names, train, heldout) = match settings.task {
            TaskChoice::Digits => {
                let mut rng = Rng::new(seed);
                let train = digit_subset(
                    &mnist,
                    mnist.train_indices(),
                    &NEW_DIGITS,
                    Some((settings.per_class, &mut rng)),
                );
                let heldout = digit_subset(&mnist, mnist.test_indices(), &NEW_DIGITS, None);
                (NEW_DIGITS.iter().map(u8::to_string).collect::<Vec<_>>(), train, heldout)
            }
            TaskChoice::Drawn => {
                let (train, heldout) = drawn_sets(&settings.drawn);
                (settings.drawn.iter().map(|c| c.name.clone()).collect(), train, heldout)
            }
        };
        // A network needs an output; a task without classes cannot train
        // (train_step says why) but still shows the pretrained network.
        let classes = class_names.len().max(1);
        let mut finetune = with_pretrained_features(&pretrained.model, classes, &mut Rng::new(seed))
            .map_err(|e| format!("Could not build the network: {e}"))?;
        for (layer, &frozen) in settings.frozen.iter().enumerate() {
            set_conv_frozen(&mut finetune, layer, frozen);
        }
        // The same seed: the scratch network's head starts as the fine-tuned one's.
        let scratch =
            Cnn::new(&finetune.config, &mut Rng::new(seed)).map_err(|e| format!("Could not build the network: {e}"))?;
        Ok(Self {
            finetune_start: layer_weights(&finetune),
            scratch_start: layer_weights(&scratch),
            finetune_opt: Optimizer::adam(settings.learning_rate),
            scratch_opt: Optimizer::adam(settings.learning_rate),
            batches: Batches::new(train.len(), seed ^ 0xba7c4),
            class_names,
            train,
            heldout,
            finetune,
            scratch,
            settings,
            seed,
            mnist,
            pretrained,
            step: 0,
            last_batch: 0,
            pass: Pass::default(),
            accuracies: None,
            last_eval_ms: f64::NEG_INFINITY,
            diverged: None,
        })
    }

    pub fn class_names(&self) -> &[String] {
        &self.class_names
    }

    pub fn accuracies(&self) -> Option<Accuracies> {
        self.accuracies
    }

    pub fn finetune(&self) -> &Cnn {
        &self.finetune
    }

    /// Why training cannot start yet, in the visitor's terms.
    fn not_ready(&self) -> Option<String> {
        if self.settings.task == TaskChoice::Drawn {
            let drawn = &self.settings.drawn;
            if drawn.len() < MIN_CLASSES {
                return Some(format!(
                    "Add at least {MIN_CLASSES} classes to teach the network (you have {}): name them and draw a \
                     few examples of each.",
                    drawn.len()
                ));
            }
            if let Some(empty) = drawn.iter().find(|c| c.examples.is_empty()) {
                return Some(format!(
                    "Class \u{201c}{}\u{201d} has no examples yet: draw or upload at least one (three or more, so \
                     that one can be held out to measure accuracy), or remove the class.",
                    empty.name
                ));
            }
        }
        None
    }

    /// One step of both networks on the same batch.
    pub fn train_step(&mut self) -> Result<Losses, String> {
        if let Some(message) = &self.diverged {
            return Err(message.clone());
        }
        if let Some(message) = self.not_ready() {
            return Err(message);
        }
        let (x, y) = self
            .batches
            .next(&self.train, self.settings.batch_size, self.settings.augment)
            .map_err(|e| format!("{e}"))?;
        self.last_batch = y.len();
        let fail = |e| format!("Training step failed: {e}");
        let finetune = self.finetune.train_step(&x, &y, &mut self.finetune_opt).map_err(fail)?;
        let scratch = self.scratch.train_step(&x, &y, &mut self.scratch_opt).map_err(fail)?;
        self.step += 1;
        for (who, loss) in [("fine-tuned", finetune.loss), ("from-scratch", scratch.loss)] {
            if !loss.is_finite() || loss > LOSS_EXPLOSION {
                let message = format!(
                    "Training diverged: the {who} network's loss became {loss} at step {}. The learning rate ({}) is \
                     too high; lower it (0.001 to 0.003 works well here), then press Reset.",
                    self.step, self.settings.learning_rate
                );
                self.diverged = Some(message.clone());
                return Err(message);
            }
        }
        Ok(vec![("fine-tuned", finetune.loss), ("from scratch", scratch.loss)])
    }

    /// Evaluates the next chunk of the held-out set with both networks;
    /// true when a pass finished.
    pub fn evaluate_chunk(&mut self) -> bool {
        let n = self.heldout.len();
        if n == 0 || self.diverged.is_some() {
            return false;
        }
        if self.pass.next == 0 {
            self.pass = Pass {
                next: 0,
                step: self.step,
                hits: [0, 0],
            };
        }
        let range = self.pass.next..(self.pass.next + EVAL_CHUNK).min(n);
        for (k, model) in [&self.finetune, &self.scratch].into_iter().enumerate() {
            let Ok(predictions) = predict(model, &self.heldout, range.clone()) else {
                return false;
            };
            self.pass.hits[k] += predictions
                .iter()
                .zip(&self.heldout.labels[range.clone()])
                .filter(|(&p, &l)| p == usize::from(l))
                .count();
        }
        self.pass.next = range.end;
        if range.end < n {
            return false;
        }
        self.accuracies = Some(Accuracies {
            finetune: self.pass.hits[0] as f32 / n as f32,
            scratch: self.pass.hits[1] as f32 / n as f32,
            step: self.pass.step,
        });
        self.pass.next = 0;
        true
    }

    /// A whole pass with the current weights.
    pub fn evaluate_all(&mut self) {
        self.pass.next = 0;
        for _ in 0..=self.heldout.len().div_ceil(EVAL_CHUNK) {
            if self.evaluate_chunk() {
                break;
            }
        }
    }

    /// Each network's probabilities for a drawing (784 values of ink).
    pub fn classify(&self, ink: &[f32]) -> Result<(Vec<f32>, Vec<f32>), String> {
        if self.not_ready().is_some() {
            return Err("Add classes with examples and train first, then draw.".into());
        }
        let probabilities = |model: &Cnn| model.classify_ink(ink).map_err(|e| format!("Could not read the drawing: {e}"));
        Ok((probabilities(&self.finetune)?, probabilities(&self.scratch)?))
    }

    pub fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        snapshot
            .metrics
            .push((metrics::PRETRAINED_ACCURACY.into(), self.pretrained.test_accuracy));
        for (name, value) in [
            (metrics::TRAIN_SIZE, self.train.len()),
            (metrics::HELDOUT_SIZE, self.heldout.len()),
            (metrics::CLASSES, self.class_names.len()),
            (metrics::BATCH, self.last_batch),
        ] {
            snapshot.integers.push((name.into(), value as u64));
        }
        if let Some(a) = self.accuracies {
            snapshot.metrics.push((metrics::FINETUNE_ACCURACY.into(), a.finetune));
            snapshot.metrics.push((metrics::SCRATCH_ACCURACY.into(), a.scratch));
            snapshot.integers.push((metrics::EVAL_STEP.into(), a.step));
        }
        let kernels = |name: &str, model: &Cnn| {
            let w = &model.convs[0].weight.value;
            NamedTensor::new(name, w.shape().to_vec(), w.iter().copied().collect())
        };
        if fresh_run {
            snapshot
                .tensors
                .push(kernels(tensors::CONV1_PRETRAINED, &self.pretrained.model));
            if self.settings.task == TaskChoice::Digits {
                let shown: Vec<usize> = (0..self.train.len())
                    .filter(|&i| i < GALLERY_PER_CLASS * self.class_names.len())
                    .collect();
                let images = shown
                    .iter()
                    .flat_map(|&i| self.train.image(i).iter().map(|&p| f32::from(p) / 255.0))
                    .collect();
                snapshot
                    .tensors
                    .push(NamedTensor::new(tensors::EXAMPLES, vec![shown.len(), 28, 28], images));
                snapshot.tensors.push(NamedTensor::new(
                    tensors::EXAMPLE_LABELS,
                    vec![shown.len()],
                    shown.iter().map(|&i| f32::from(self.train.labels[i])).collect(),
                ));
            }
        }
        if heavy || fresh_run {
            snapshot.tensors.push(kernels(tensors::CONV1_FINETUNE, &self.finetune));
            snapshot.tensors.push(kernels(tensors::CONV1_SCRATCH, &self.scratch));
            for (name, model, start) in [
                (tensors::CHANGE_FINETUNE, &self.finetune, &self.finetune_start),
                (tensors::CHANGE_SCRATCH, &self.scratch, &self.scratch_start),
            ] {
                let change: Vec<f32> = layer_weights(model)
                    .iter()
                    .zip(start)
                    .map(|(now, before)| relative_change(now, before))
                    .collect();
                snapshot.tensors.push(NamedTensor::new(name, vec![change.len()], change));
            }
        }
        snapshot
    }

    /// Freezing, the learning rate, the batch size and augmentation apply
    /// to the running networks; a new task or new examples start both
    /// again. Nothing changes on an error.
    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        let mut settings = self.settings.clone();
        hyper.apply(&mut settings);
        validate(&settings)?;
        if hyper.restarts_run() {
            *self = Self::new(settings, self.seed, self.mnist.clone(), self.pretrained.clone())?;
            return Ok(Applied::Restarted);
        }
        match hyper {
            Hyper::Freeze { layer, frozen } if layer < CONV_LAYERS => set_conv_frozen(&mut self.finetune, layer, frozen),
            Hyper::LearningRate(lr) => {
                self.finetune_opt.set_lr(lr);
                self.scratch_opt.set_lr(lr);
            }
            _ => {}
        }
        self.settings = settings;
        Ok(Applied::Live)
    }

    /// The fine-tuned network as safetensors, with the classes it tells apart.
    pub fn export_weights(&self) -> Vec<u8> {
        let classes = self.class_names.join(",");
        deepplay_core::safetensors::save(
            &self.finetune,
            &[
                ("deepplay.lab", "transfer"),
                ("task", self.settings.task.key()),
                ("classes", &classes),
                ("pretrained_on", "digits 0-4"),
            ],
        )
    }

    /// Loads a fine-tuned network exported for the same classes into the
    /// fine-tuned side; on any problem nothing changes.
    pub fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        let mut model = self.finetune.clone();
        let metadata = deepplay_core::safetensors::load(&mut model, bytes).map_err(|e| {
            format!(
                "Could not load these weights: {e}. This lab loads a fine-tuned network it exported for {} classes. \
                 The current weights are unchanged.",
                self.class_names.len()
            )
        })?;
        check_metadata(
            &metadata,
            &[
                ("deepplay.lab", "transfer".to_string()),
                ("classes", self.class_names.join(",")),
            ],
        )?;
        // The frozen flags are this run's, not the file's.
        for (layer, &frozen) in self.settings.frozen.iter().enumerate() {
            set_conv_frozen(&mut model, layer, frozen);
        }
        self.finetune = model;
        self.finetune_opt = Optimizer::adam(self.settings.learning_rate);
        self.diverged = None;
        self.accuracies = None;
        self.pass = Pass::default();
        Ok(())
    }
}

impl Lab for TransferLab {
    type Protocol = TransferProtocol;
    const DATASETS: &'static [DatasetId] = &[DatasetId::Mnist, DatasetId::PretrainedCnn];

    fn build(settings: TransferSettings, seed: u64, data: &Datasets) -> Result<Self, String> {
        Self::new(settings, seed, data.mnist()?, data.pretrained()?)
    }

    fn settings(&self) -> &TransferSettings {
        &self.settings
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn train_step(&mut self) -> Result<Losses, String> {
        TransferLab::train_step(self)
    }

    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        TransferLab::snapshot(self, heavy, fresh_run)
    }

    fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        TransferLab::set_hyper(self, hyper)
    }

    fn command(&mut self, command: Command) -> Result<Option<Reply>, String> {
        match command {
            Command::Classify { ink } => self
                .classify(&ink)
                .map(|(finetune, scratch)| Some(Reply::Prediction { finetune, scratch })),
            Command::ExportExamples => Ok(Some(Reply::ExamplesFile {
                bytes: examples_file(&self.settings.drawn),
            })),
            Command::ReadExamples { bytes } => read_examples(&bytes).map(|classes| Some(Reply::Examples { classes })),
        }
    }

    fn background(&mut self, now_ms: f64) {
        if now_ms - self.last_eval_ms >= EVAL_INTERVAL_MS {
            self.evaluate_chunk();
            self.last_eval_ms = now_ms;
        }
    }

    fn settle(&mut self) {
        self.evaluate_all();
    }

    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        Ok(("deepplay-transfer.safetensors".into(), TransferLab::export_weights(self)))
    }

    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        TransferLab::import_weights(self, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::datasets::{shipped_mnist, shipped_pretrained};

    fn lab(settings: TransferSettings, seed: u64) -> TransferLab {
        TransferLab::new(settings, seed, shipped_mnist(), shipped_pretrained()).unwrap()
    }

    /// `n` drawings of class `k`: a bar at a height of its own, a little
    /// wobbly so no two are the same.
    fn drawings(k: usize, n: usize) -> Vec<Vec<u8>> {
        (0..n)
            .map(|i| {
                let mut image = vec![0u8; PIXELS];
                for x in 6..22 {
                    let y = 4 + 4 * k + (x + i) % 3;
                    image[y * 28 + x] = 255;
                }
                image
            })
            .collect()
    }

    fn drawn(classes: &[(&str, usize)]) -> TransferSettings {
        TransferSettings {
            task: TaskChoice::Drawn,
            drawn: classes
                .iter()
                .enumerate()
                .map(|(k, &(name, n))| DrawnClass {
                    name: name.into(),
                    examples: drawings(k, n),
                })
                .collect(),
            ..TransferSettings::default()
        }
    }

    #[test]
    fn fine_tuning_beats_scratch_with_ten_examples_of_each_new_digit() {
        let mut lab = lab(TransferSettings::default(), 1);
        assert_eq!(lab.class_names(), ["5", "6", "7", "8", "9"]);
        for _ in 0..150 {
            lab.train_step().unwrap();
        }
        lab.evaluate_all();
        let a = lab.accuracies().unwrap();
        assert_eq!(a.step, 150);
        assert!(
            a.finetune > 0.85 && a.finetune > a.scratch + 0.02,
            "fine-tuned {} vs scratch {}",
            a.finetune,
            a.scratch
        );
        let snap = lab.snapshot(false, false);
        assert_eq!(snap.integer(metrics::TRAIN_SIZE), Some(50));
        assert_eq!(snap.integer(metrics::BATCH), Some(32));
        assert!(snap.integer(metrics::HELDOUT_SIZE).unwrap() > 900);
    }

    #[test]
    fn frozen_layers_stay_bit_identical_and_unfreezing_lets_them_move() {
        let settings = TransferSettings {
            frozen: [true, false],
            ..TransferSettings::default()
        };
        let mut lab = lab(settings, 2);
        let pretrained = shipped_pretrained();
        for _ in 0..20 {
            lab.train_step().unwrap();
        }
        let convs = &lab.finetune().convs;
        assert_eq!(convs[0].weight.value, pretrained.model.convs[0].weight.value);
        assert_eq!(convs[0].bias.value, pretrained.model.convs[0].bias.value);
        assert_ne!(convs[1].weight.value, pretrained.model.convs[1].weight.value);
        let snap = lab.snapshot(true, false);
        let change = &snap.tensor(tensors::CHANGE_FINETUNE).unwrap().data;
        assert_eq!(change[0], 0.0, "conv1 frozen");
        assert!(change[1] > 0.0 && change[2] > 0.0);
        assert_eq!(
            snap.tensor(tensors::CONV1_FINETUNE).unwrap().data,
            pretrained.model.convs[0].weight.value.iter().copied().collect::<Vec<_>>()
        );
        assert_eq!(lab.set_hyper(Hyper::Freeze { layer: 0, frozen: false }), Ok(Applied::Live));
        lab.train_step().unwrap();
        assert_ne!(lab.finetune().convs[0].weight.value, pretrained.model.convs[0].weight.value);
        assert_eq!(lab.step(), 21, "freezing does not restart");
    }

    #[test]
    fn same_seed_same_run() {
        let run = |seed| {
            let mut lab = lab(TransferSettings::default(), seed);
            (0..5)
                .flat_map(|_| lab.train_step().unwrap().into_iter().map(|(_, l)| l))
                .collect::<Vec<f32>>()
        };
        assert_eq!(run(3), run(3));
        assert_ne!(run(3), run(4));
    }

    #[test]
    fn the_visitor_s_classes_train_hold_out_and_classify() {
        let mut lab = lab(drawn(&[("bar", 5), ("mid", 5), ("low", 4)]), 1);
        let snap = lab.snapshot(false, true);
        assert_eq!(snap.integer(metrics::TRAIN_SIZE), Some(11));
        assert_eq!(snap.integer(metrics::HELDOUT_SIZE), Some(3));
        for _ in 0..60 {
            lab.train_step().unwrap();
        }
        assert_eq!(lab.snapshot(false, false).integer(metrics::BATCH), Some(11), "batch 32 of 11 examples is 11");
        lab.evaluate_all();
        assert_eq!(lab.accuracies().unwrap().finetune, 1.0);
        // A new drawing of the second class.
        let ink: Vec<f32> = drawings(1, 7)[6].iter().map(|&p| f32::from(p) / 255.0).collect();
        let (finetune, scratch) = lab.classify(&ink).unwrap();
        assert_eq!((finetune.len(), scratch.len()), (3, 3));
        let best = finetune.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
        assert_eq!(best, 1);
    }

    #[test]
    fn too_few_classes_or_an_empty_class_cannot_start_and_says_why() {
        let mut one = lab(drawn(&[("only", 3)]), 1);
        let message = one.train_step().unwrap_err();
        assert!(message.contains("at least 2 classes"), "{message}");
        let mut empty = lab(drawn(&[("a", 3), ("b", 0)]), 1);
        let message = empty.train_step().unwrap_err();
        assert!(message.contains("\u{201c}b\u{201d} has no examples"), "{message}");
        assert!(empty.classify(&[0.0; 784]).is_err());
        assert_eq!(empty.step(), 0);
        // Adding examples to the class starts a run that trains.
        let fixed = drawn(&[("a", 3), ("b", 2)]).drawn;
        assert_eq!(empty.set_hyper(Hyper::Classes(fixed)), Ok(Applied::Restarted));
        assert!(empty.train_step().is_ok());
        // A bad example is refused and nothing changes.
        let mut bad = empty.settings().drawn.clone();
        bad[0].examples.push(vec![0; 10]);
        assert!(empty.set_hyper(Hyper::Classes(bad)).unwrap_err().contains("not a 28x28 image"));
        assert_eq!(empty.step(), 1);
    }

    #[test]
    fn bad_settings_are_refused_and_a_huge_rate_diverges_with_advice() {
        let mut lab = lab(TransferSettings::default(), 1);
        assert!(lab.set_hyper(Hyper::PerClass(7)).unwrap_err().contains("one of [1, 5, 10, 50]"));
        assert!(lab.set_hyper(Hyper::LearningRate(-1.0)).is_err());
        assert!(lab.set_hyper(Hyper::BatchSize(0)).is_err());
        assert_eq!(lab.settings(), &TransferSettings::default());
        lab.set_hyper(Hyper::Freeze { layer: 1, frozen: false }).unwrap();
        lab.set_hyper(Hyper::Freeze { layer: 0, frozen: false }).unwrap();
        lab.set_hyper(Hyper::LearningRate(50.0)).unwrap();
        let message = (0..40).find_map(|_| lab.train_step().err()).expect("lr 50 diverges");
        assert!(message.contains("diverged") && message.contains("Reset"), "{message}");
        assert!(lab.train_step().is_err(), "stays failed");
    }

    #[test]
    fn weights_round_trip_and_files_for_other_classes_change_nothing() {
        let mut trained = lab(TransferSettings::default(), 1);
        for _ in 0..10 {
            trained.train_step().unwrap();
        }
        let file = trained.export_weights();
        let mut fresh = lab(TransferSettings::default(), 5);
        let probe = vec![0.3; 784];
        let before = fresh.classify(&probe).unwrap();
        let mut other = lab(drawn(&[("a", 3), ("b", 3), ("c", 3), ("d", 3), ("e", 3)]), 1);
        let message = fresh.import_weights(&other.export_weights()).unwrap_err();
        assert!(message.contains("classes") && message.contains("unchanged"), "{message}");
        assert!(fresh.import_weights(b"garbage").unwrap_err().contains("unchanged"));
        assert_eq!(fresh.classify(&probe).unwrap(), before);
        fresh.import_weights(&file).unwrap();
        assert_eq!(fresh.classify(&probe).unwrap().0, trained.classify(&probe).unwrap().0);
        // The imported network keeps this run's frozen layers.
        assert!(fresh.finetune().convs[0].weight.frozen);
        other.train_step().unwrap();
    }

    #[test]
    fn examples_round_trip_through_a_file_and_other_files_are_refused() {
        let classes = drawn(&[("circle", 3), ("empty", 0), ("wave \u{2248}", 2)]).drawn;
        let file = examples_file(&classes);
        assert_eq!(read_examples(&file), Ok(classes.clone()));
        let weights = lab(TransferSettings::default(), 1).export_weights();
        assert!(read_examples(&weights).unwrap_err().contains("not a file of examples"));
        assert!(read_examples(b"").unwrap_err().contains("unchanged"));
        let too_many: Vec<DrawnClass> = (0..9)
            .map(|i| DrawnClass {
                name: i.to_string(),
                examples: Vec::new(),
            })
            .collect();
        assert!(read_examples(&examples_file(&too_many)).is_err());
    }

    #[test]
    fn snapshots_carry_the_kernels_the_gallery_and_the_accuracies() {
        let mut lab = lab(TransferSettings::default(), 1);
        let first = lab.snapshot(false, true);
        assert_eq!(first.tensor(tensors::CONV1_PRETRAINED).unwrap().shape, vec![8, 1, 5, 5]);
        assert_eq!(first.tensor(tensors::EXAMPLES).unwrap().shape, vec![50, 28, 28]);
        assert_eq!(first.tensor(tensors::CHANGE_SCRATCH).unwrap().data, vec![0.0; 3]);
        assert!(first.metric(metrics::PRETRAINED_ACCURACY).unwrap() > 0.95);
        assert!(first.metric(metrics::FINETUNE_ACCURACY).is_none());
        Lab::settle(&mut lab);
        let snap = lab.snapshot(false, false);
        assert!(snap.tensor(tensors::EXAMPLES).is_none(), "the gallery goes out once a run");
        // Before training both guess among 5 classes.
        let (f, s) = (
            snap.metric(metrics::FINETUNE_ACCURACY).unwrap(),
            snap.metric(metrics::SCRATCH_ACCURACY).unwrap(),
        );
        assert!(f < 0.6 && s < 0.6, "{f} {s}");
        let big = lab_with_per_class(50);
        assert_eq!(big.snapshot_examples(), 50, "10 of each class are shown of 250");
    }

    fn lab_with_per_class(per_class: usize) -> TransferLab {
        lab(
            TransferSettings {
                per_class,
                ..TransferSettings::default()
            },
            1,
        )
    }

    impl TransferLab {
        fn snapshot_examples(mut self) -> usize {
            self.snapshot(false, true).tensor(tensors::EXAMPLES).unwrap().shape[0]
        }
    }
}
