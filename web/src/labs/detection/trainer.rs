//! The Detection lab's trainer: a tiny YOLO-style detector trained on an
//! endless stream of fresh random scenes, and measured (mAP@0.5, precision,
//! recall) on a fixed set of held-out scenes a chunk at a time between
//! training slices. The thresholds the boxes are shown with are settings
//! that change no weight: a new threshold re-scores the last measurement at
//! once. Plain Rust (no browser), tested natively; the worker's runtime
//! drives it through [`Lab`].

use deepplay_core::data::scenes::{self, SceneObject, Shape, SCENE_LEN, SCENE_SIZE};
use deepplay_core::detection::{mean_average_precision, precision_recall, PrecisionRecall, Truth};
use deepplay_core::limits;
use deepplay_core::models::detector::{training_batch, truths, Detector, DetectorConfig, GRID};
use deepplay_core::ops::YoloWeights;
use deepplay_core::optim::{Adam, Optimizer};
use deepplay_core::{Module, Rng};

use super::protocol::{
    integers, metrics, tensors, Command, DetectionProtocol, DetectionSettings, Hyper, PlacedShape, Reply, HELD_OUT,
    MAX_PLACED, SHOWN,
};
use crate::worker::datasets::Datasets;
use crate::worker::lab::{check_learning_rate, check_metadata, clock_ms, Applied, Lab, Losses};
use crate::worker::protocol::{NamedTensor, Snapshot};

/// The held-out scenes come from this seed whatever the run's, so that
/// every run is measured on the same pictures.
pub const HELD_OUT_SEED: u64 = 0x5ce4e;
/// The visitor's drawn scene gets its background from this seed: the same
/// drawing always makes the same picture.
const DRAWN_SEED: u64 = 0xd4a3;
/// Held-out scenes measured per chunk.
pub const EVAL_CHUNK: usize = 6;
/// While training, one chunk is measured this often...
pub const EVAL_INTERVAL_MS: f64 = 150.0;
/// ...and the shown scenes' predictions are refreshed at most this often.
pub const SHOWN_INTERVAL_MS: f64 = 400.0;
/// A loss beyond this means the run blew up.
const EXPLODED: f32 = 1e4;
/// mAP is measured over every box a cell reports down to this confidence
/// (the precision-recall curve needs the unsure ones too).
const MAP_MIN_CONFIDENCE: f32 = 0.01;
/// A detection is right when it overlaps an object of its class by this much.
const MATCH_IOU: f32 = 0.5;
/// A drawn shape's size, in pixels.
const PLACED_SIZE: (f32, f32) = (4.0, 48.0);

pub fn detector_config(s: &DetectionSettings) -> DetectorConfig {
    DetectorConfig {
        width: s.width,
        weights: YoloWeights {
            coord: s.box_weight,
            ..YoloWeights::default()
        },
    }
}

/// The settings the core does not check when it builds, with the message a
/// visitor reads.
pub fn validate(s: &DetectionSettings) -> Result<(), String> {
    let checks = [
        limits::DETECTOR_WIDTH.check("detection", "width", s.width).map(|_| ()),
        limits::DETECTION_BATCH.check("detection", "batch size", s.batch_size).map(|_| ()),
        limits::BOX_WEIGHT.check("detection", "box weight", s.box_weight).map(|_| ()),
        limits::THRESHOLD.check("detection", "confidence threshold", s.confidence).map(|_| ()),
        limits::THRESHOLD.check("detection", "NMS IoU threshold", s.nms_iou).map(|_| ()),
    ];
    checks
        .into_iter()
        .collect::<Result<(), _>>()
        .map_err(|e| e.to_string())?;
    check_learning_rate(s.learning_rate)
}

/// The scores of one pass over the held-out scenes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Scores {
    pub map50: f32,
    pub counts: PrecisionRecall,
    pub step: u64,
}

/// A pass over the held-out scenes in progress.
#[derive(Default)]
struct Pass {
    next: usize,
    step: u64,
    raw: Vec<f32>,
}

pub struct DetectionTrainer {
    settings: DetectionSettings,
    seed: u64,
    /// Draws the training scenes.
    rng: Rng,
    net: Detector,
    optimizer: Optimizer,
    held_images: Vec<f32>,
    held_truth: Vec<Vec<Truth>>,
    pass: Pass,
    /// The raw predictions of the last finished pass, and its step.
    measured: Option<(u64, Vec<f32>)>,
    scores: Option<Scores>,
    /// The shown scenes' raw predictions, the step they were made at and
    /// whether the page has them yet.
    shown: Option<(u64, Vec<f32>)>,
    shown_sent: bool,
    shown_at_ms: f64,
    last_eval_ms: f64,
    step: u64,
    total_ms: f64,
    diverged: Option<String>,
}

fn adam(learning_rate: f32) -> Optimizer {
    Optimizer::Adam(Adam::new(learning_rate))
}

impl DetectionTrainer {
    pub fn new(settings: DetectionSettings, seed: u64) -> Result<Self, String> {
        validate(&settings)?;
        let mut rng = Rng::new(seed);
        let net = Detector::new(detector_config(&settings), &mut rng).map_err(|e| e.to_string())?;
        let mut held_rng = Rng::new(HELD_OUT_SEED);
        let held: Vec<_> = (0..HELD_OUT).map(|_| scenes::random_scene(&mut held_rng)).collect();
        Ok(Self {
            optimizer: adam(settings.learning_rate),
            held_images: held.iter().flat_map(|s| s.image.iter().copied()).collect(),
            held_truth: held.iter().map(truths).collect(),
            settings,
            seed,
            rng,
            net,
            pass: Pass::default(),
            measured: None,
            scores: None,
            shown: None,
            shown_sent: false,
            shown_at_ms: f64::NEG_INFINITY,
            last_eval_ms: 0.0,
            step: 0,
            total_ms: 0.0,
            diverged: None,
        })
    }

    fn check_alive(&self) -> Result<(), String> {
        self.diverged.clone().map_or(Ok(()), Err)
    }

    pub fn train_step(&mut self) -> Result<Losses, String> {
        self.check_alive()?;
        let start = clock_ms();
        let (images, targets) = training_batch(self.settings.batch_size, &mut self.rng);
        let parts = self
            .net
            .train_step(&images, &targets, &mut self.optimizer)
            .map_err(|e| format!("Training step failed: {e}"))?;
        self.total_ms += clock_ms() - start;
        self.step += 1;
        let total = parts.total();
        if !total.is_finite() || total > EXPLODED || !self.net.is_finite() {
            let message = format!(
                "Training diverged: the loss became {} at step {}. The learning rate ({}) is too high for this \
                 detector: lower it (0.003 with Adam trains steadily), then press Reset to start again from fresh \
                 weights.",
                if total.is_finite() { format!("{total:.3e}") } else { "not a number".into() },
                self.step,
                self.settings.learning_rate
            );
            self.diverged = Some(message.clone());
            return Err(message);
        }
        Ok(vec![
            ("total", total),
            ("box", parts.boxes),
            ("objectness", parts.objectness),
            ("class", parts.class),
        ])
    }

    /// Detections of every measured held-out scene at `confidence`.
    fn detections(&self, raw: &[f32], confidence: f32) -> Vec<Vec<deepplay_core::detection::Detection>> {
        raw.chunks_exact(GRID.len())
            .map(|r| GRID.detect(r, confidence, self.settings.nms_iou))
            .collect()
    }

    /// mAP@0.5 and the counts at the confidence threshold, from the last
    /// pass's raw predictions and the current thresholds.
    fn score(&mut self) {
        let Some((step, raw)) = &self.measured else {
            return;
        };
        let all = self.detections(raw, MAP_MIN_CONFIDENCE);
        let Some(map50) = mean_average_precision(&all, &self.held_truth, GRID.classes, MATCH_IOU) else {
            return;
        };
        let counts = precision_recall(&all, &self.held_truth, GRID.classes, self.settings.confidence, MATCH_IOU);
        self.scores = Some(Scores {
            map50,
            counts,
            step: *step,
        });
    }

    /// Measures the next chunk of the held-out scenes; true when a pass finished.
    pub fn evaluate_chunk(&mut self) -> bool {
        if self.diverged.is_some() {
            return false;
        }
        if self.pass.next == 0 {
            self.pass.step = self.step;
            self.pass.raw.clear();
        }
        let range = self.pass.next..(self.pass.next + EVAL_CHUNK).min(HELD_OUT);
        let Ok(raw) = self.net.predict(&self.held_images[range.start * SCENE_LEN..range.end * SCENE_LEN]) else {
            return false;
        };
        self.pass.raw.extend_from_slice(&raw);
        self.pass.next = range.end;
        if range.end < HELD_OUT {
            return false;
        }
        self.pass.next = 0;
        self.measured = Some((self.pass.step, core::mem::take(&mut self.pass.raw)));
        self.score();
        true
    }

    /// A whole pass with the current weights.
    pub fn evaluate_all(&mut self) {
        self.pass.next = 0;
        for _ in 0..=HELD_OUT.div_ceil(EVAL_CHUNK) {
            if self.evaluate_chunk() {
                break;
            }
        }
    }

    pub fn scores(&self) -> Option<Scores> {
        self.scores
    }

    /// The shown scenes' predictions, made again if the weights changed.
    fn refresh_shown(&mut self) {
        if self.shown.as_ref().is_some_and(|(step, _)| *step == self.step) {
            return;
        }
        if let Ok(raw) = self.net.predict(&self.held_images[..SHOWN * SCENE_LEN]) {
            self.shown = Some((self.step, raw));
            self.shown_sent = false;
        }
    }

    /// Draws the visitor's shapes on a training-like background and runs
    /// the detector on the picture.
    pub fn detect(&self, placed: &[PlacedShape]) -> Result<Reply, String> {
        if placed.len() > MAX_PLACED {
            return Err(format!(
                "A drawn scene holds up to {MAX_PLACED} shapes; this one has {}. Remove some first.",
                placed.len()
            ));
        }
        let mut objects = Vec::with_capacity(placed.len());
        for p in placed {
            let shape = Shape::from_class(p.class)
                .ok_or_else(|| format!("There is no shape number {}: choose a circle, square or triangle.", p.class))?;
            let inside = |v: f32| v.is_finite() && (0.0..=SCENE_SIZE as f32).contains(&v);
            let sized = p.size.is_finite() && (PLACED_SIZE.0..=PLACED_SIZE.1).contains(&p.size);
            if !inside(p.cx) || !inside(p.cy) || !sized || p.colour.iter().any(|c| !(0.0..=1.0).contains(c)) {
                return Err(format!(
                    "A drawn shape must lie in the 64x64 scene with a size from {} to {} pixels.",
                    PLACED_SIZE.0, PLACED_SIZE.1
                ));
            }
            objects.push(SceneObject {
                shape,
                cx: p.cx,
                cy: p.cy,
                size: p.size,
                colour: p.colour,
            });
        }
        let image = scenes::render(&objects, &mut Rng::new(DRAWN_SEED));
        let raw = self
            .net
            .predict(&image)
            .map_err(|e| format!("Could not run the detector on the drawing: {e}"))?;
        Ok(Reply::Detected { image, raw })
    }

    pub fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        let mut snapshot = Snapshot::default();
        if self.step > 0 {
            snapshot
                .metrics
                .push((metrics::STEP_MS.into(), (self.total_ms / self.step as f64) as f32));
        }
        if let Some(s) = self.scores {
            snapshot.metrics.extend([
                (metrics::MAP50.into(), s.map50),
                (metrics::PRECISION.into(), s.counts.precision()),
                (metrics::RECALL.into(), s.counts.recall()),
            ]);
            snapshot.integers.extend([
                (integers::EVAL_STEP.into(), s.step),
                (integers::DETECTIONS.into(), s.counts.detections as u64),
                (integers::TRUE_POSITIVES.into(), s.counts.true_positives as u64),
                (integers::OBJECTS.into(), s.counts.objects as u64),
            ]);
        }
        if fresh_run {
            snapshot
                .integers
                .push((integers::PARAMS.into(), self.net.num_params() as u64));
            snapshot.tensors.push(NamedTensor::new(
                tensors::SCENES,
                vec![SHOWN, 3, SCENE_SIZE, SCENE_SIZE],
                self.held_images[..SHOWN * SCENE_LEN].to_vec(),
            ));
            let truth: Vec<f32> = self.held_truth[..SHOWN]
                .iter()
                .enumerate()
                .flat_map(|(i, objects)| {
                    objects.iter().flat_map(move |t| {
                        [i as f32, t.class as f32, t.bbox.x0, t.bbox.y0, t.bbox.x1, t.bbox.y1]
                    })
                })
                .collect();
            snapshot
                .tensors
                .push(NamedTensor::new(tensors::TRUTH, vec![truth.len() / 6, 6], truth));
            self.shown_sent = false;
        }
        let now = clock_ms();
        if (heavy && now - self.shown_at_ms >= SHOWN_INTERVAL_MS) || fresh_run {
            self.refresh_shown();
            self.shown_at_ms = now;
        }
        if let Some((_, raw)) = &self.shown {
            if !self.shown_sent && (heavy || fresh_run) {
                snapshot.tensors.push(NamedTensor::new(
                    tensors::RAW,
                    vec![SHOWN, GRID.channels(), GRID.cells, GRID.cells],
                    raw.clone(),
                ));
                self.shown_sent = true;
            }
        }
        snapshot
    }

    pub fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        let mut settings = self.settings.clone();
        hyper.apply(&mut settings);
        validate(&settings)?;
        if hyper.restarts_run() {
            *self = Self::new(settings, self.seed)?;
            return Ok(Applied::Restarted);
        }
        self.settings = settings;
        match hyper {
            Hyper::LearningRate(lr) => self.optimizer.set_lr(lr),
            Hyper::BoxWeight(w) => self.net.config.weights.coord = w,
            Hyper::Confidence(_) | Hyper::NmsIou(_) => self.score(),
            Hyper::BatchSize(_) | Hyper::Width(_) => {}
        }
        Ok(Applied::Live)
    }
}

impl Lab for DetectionTrainer {
    type Protocol = DetectionProtocol;

    fn build(settings: DetectionSettings, seed: u64, _data: &Datasets) -> Result<Self, String> {
        Self::new(settings, seed)
    }

    fn settings(&self) -> &DetectionSettings {
        &self.settings
    }

    fn step(&self) -> u64 {
        self.step
    }

    fn train_step(&mut self) -> Result<Losses, String> {
        DetectionTrainer::train_step(self)
    }

    fn snapshot(&mut self, heavy: bool, fresh_run: bool) -> Snapshot {
        DetectionTrainer::snapshot(self, heavy, fresh_run)
    }

    fn set_hyper(&mut self, hyper: Hyper) -> Result<Applied, String> {
        DetectionTrainer::set_hyper(self, hyper)
    }

    fn command(&mut self, command: Command) -> Result<Option<Reply>, String> {
        match command {
            Command::Detect(placed) => self.detect(&placed).map(Some),
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
        self.refresh_shown();
    }

    /// `conv1.weight` ... `conv4.bias`, `head.weight`, `head.bias`: 3x3
    /// convolutions with padding 1, ReLU after each, 2x2 max-pooling after
    /// the first three, then the 1x1 head; the input is `2 * pixel - 1`.
    fn export_weights(&self) -> Result<(String, Vec<u8>), String> {
        let width = self.settings.width.to_string();
        let bytes = deepplay_core::safetensors::save(
            &self.net,
            &[
                ("deepplay.lab", "detection"),
                ("width", &width),
                ("input", "[N, 3, 64, 64], 2 * pixel - 1"),
                ("grid", "8x8 cells of 8 pixels"),
                (
                    "head",
                    "per cell: objectness logit, logits of x and y in the cell, ln(w / 16), ln(h / 16), class logits",
                ),
                ("classes", "circle,square,triangle"),
            ],
        );
        Ok((format!("deepplay-detector-w{}.safetensors", self.settings.width), bytes))
    }

    fn import_weights(&mut self, bytes: &[u8]) -> Result<(), String> {
        // Into a copy, so that a refused file changes nothing.
        let mut net = self.net.clone();
        let metadata = deepplay_core::safetensors::load(&mut net, bytes).map_err(|e| {
            format!(
                "Could not load these weights: {e}. This lab needs a detector it exported with the same width ({}). \
                 The current weights are unchanged.",
                self.settings.width
            )
        })?;
        check_metadata(
            &metadata,
            &[
                ("deepplay.lab", "detection".to_string()),
                ("width", self.settings.width.to_string()),
            ],
        )?;
        self.net = net;
        self.optimizer = adam(self.settings.learning_rate);
        self.diverged = None;
        self.shown = None;
        self.measured = None;
        self.scores = None;
        self.pass = Pass::default();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> DetectionSettings {
        DetectionSettings {
            width: 4,
            batch_size: 4,
            ..DetectionSettings::default()
        }
    }

    #[test]
    fn the_first_snapshot_has_the_scenes_their_objects_and_predictions() {
        let mut t = DetectionTrainer::new(small(), 1).unwrap();
        let s = t.snapshot(false, true);
        assert_eq!(s.tensor(tensors::SCENES).unwrap().shape, vec![SHOWN, 3, 64, 64]);
        let truth = s.tensor(tensors::TRUTH).unwrap();
        assert_eq!(truth.shape[1], 6);
        assert_eq!(truth.shape[0], t.held_truth[..SHOWN].iter().map(Vec::len).sum::<usize>());
        assert_eq!(s.tensor(tensors::RAW).unwrap().shape, vec![SHOWN, 8, 8, 8]);
        assert!(s.integer(integers::PARAMS).unwrap() > 1000);
        // Nothing new to send: a light snapshot carries no tensors.
        assert!(t.snapshot(false, false).tensors.is_empty());
        assert!(t.snapshot(true, false).tensors.is_empty(), "the same weights: nothing to resend");
    }

    /// The lab's target, in small: a short seeded run raises mAP@0.5 on
    /// the held-out scenes well above where it starts.
    #[test]
    fn a_short_run_raises_map50() {
        let mut t = DetectionTrainer::new(DetectionSettings::default(), 2).unwrap();
        t.evaluate_all();
        let start = t.scores().unwrap();
        assert_eq!(start.step, 0);
        for _ in 0..150 {
            let losses = t.train_step().unwrap();
            let names: Vec<&str> = losses.iter().map(|(n, _)| *n).collect();
            assert_eq!(names, ["total", "box", "objectness", "class"]);
        }
        t.evaluate_all();
        let end = t.scores().unwrap();
        assert_eq!(end.step, 150);
        assert!(end.map50 > start.map50 + 0.3, "{} -> {}", start.map50, end.map50);
        let s = t.snapshot(false, false);
        assert_eq!(s.metric(metrics::MAP50), Some(end.map50));
        assert!(s.metric(metrics::RECALL).unwrap() > 0.0);
    }

    #[test]
    fn thresholds_rescore_without_training() {
        let mut t = DetectionTrainer::new(small(), 3).unwrap();
        for _ in 0..60 {
            t.train_step().unwrap();
        }
        t.evaluate_all();
        let before = t.scores().unwrap();
        let weights = deepplay_core::safetensors::save(&t.net, &[]);
        assert_eq!(t.set_hyper(Hyper::Confidence(0.0)), Ok(Applied::Live));
        let all = t.scores().unwrap();
        assert_eq!(t.set_hyper(Hyper::Confidence(1.0)), Ok(Applied::Live));
        let none = t.scores().unwrap();
        assert!(all.counts.detections >= before.counts.detections);
        assert_eq!(none.counts.detections, 0);
        assert_eq!(none.counts.precision(), 1.0);
        assert_eq!(none.counts.recall(), 0.0);
        assert_eq!((t.step, deepplay_core::safetensors::save(&t.net, &[])), (60, weights));
        // Out of [0, 1]: refused with the reason, nothing changes.
        for bad in [Hyper::Confidence(1.5), Hyper::NmsIou(-0.1), Hyper::Confidence(f32::NAN)] {
            let message = t.set_hyper(bad).unwrap_err();
            assert!(message.contains("threshold must be from 0 to 1"), "{message}");
        }
        assert_eq!(t.settings.confidence, 1.0);
        assert!(DetectionTrainer::new(DetectionSettings { nms_iou: 2.0, ..small() }, 1).is_err());
    }

    #[test]
    fn a_drawn_scene_is_detected_and_an_empty_one_finds_nothing() {
        let mut t = DetectionTrainer::new(DetectionSettings::default(), 4).unwrap();
        for _ in 0..200 {
            t.train_step().unwrap();
        }
        let square = PlacedShape {
            class: 1,
            cx: 30.0,
            cy: 30.0,
            size: 18.0,
            colour: [1.0, 0.8, 0.2],
        };
        let Reply::Detected { image, raw } = t.detect(&[square]).unwrap();
        assert_eq!((image.len(), raw.len()), (SCENE_LEN, GRID.len()));
        let found = GRID.detect(&raw, 0.5, 0.5);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].class, 1);
        let Reply::Detected { raw, .. } = t.detect(&[]).unwrap();
        assert!(GRID.detect(&raw, 0.5, 0.5).is_empty());
        // Bad shapes are refused with the reason.
        for bad in [
            PlacedShape { class: 7, ..square },
            PlacedShape { cx: f32::NAN, ..square },
            PlacedShape { size: 500.0, ..square },
        ] {
            assert!(Lab::command(&mut t, Command::Detect(vec![bad])).is_err());
        }
        assert!(t.detect(&vec![square; MAX_PLACED + 1]).unwrap_err().contains("up to"));
    }

    #[test]
    fn a_diverging_run_stops_with_advice() {
        let mut t = DetectionTrainer::new(
            DetectionSettings {
                learning_rate: 5.0,
                ..small()
            },
            5,
        )
        .unwrap();
        let error = (0..300).find_map(|_| t.train_step().err()).expect("diverges");
        assert!(error.contains("lower it") && error.contains("Reset"), "{error}");
        assert_eq!(t.train_step().unwrap_err(), error, "stays stopped");
    }

    #[test]
    fn weights_round_trip_and_other_files_are_refused() {
        let mut trained = DetectionTrainer::new(small(), 6).unwrap();
        for _ in 0..5 {
            trained.train_step().unwrap();
        }
        let (name, file) = trained.export_weights().unwrap();
        assert!(name.ends_with(".safetensors"));
        let mut fresh = DetectionTrainer::new(small(), 7).unwrap();
        let before = deepplay_core::safetensors::save(&fresh.net, &[]);
        let wider = DetectionTrainer::new(DetectionSettings::default(), 7).unwrap();
        for other in [wider.export_weights().unwrap().1, b"junk".to_vec(), Vec::new()] {
            let message = fresh.import_weights(&other).unwrap_err();
            assert!(message.contains("unchanged"), "{message}");
        }
        assert_eq!(deepplay_core::safetensors::save(&fresh.net, &[]), before);
        fresh.import_weights(&file).unwrap();
        assert_eq!(
            deepplay_core::safetensors::save(&fresh.net, &[]),
            deepplay_core::safetensors::save(&trained.net, &[])
        );
    }

    #[test]
    fn the_same_seed_gives_the_same_run() {
        let run = |seed| {
            let mut t = DetectionTrainer::new(small(), seed).unwrap();
            (0..100).map(|_| t.train_step().unwrap()).collect::<Vec<_>>()
        };
        assert_eq!(run(8), run(8));
        assert_ne!(run(8), run(9));
    }
}
