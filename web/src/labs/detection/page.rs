//! `/detection`: a tiny YOLO-style detector learns to find circles, squares
//! and triangles in scenes the browser makes. The visitor sees the boxes it
//! reports on held-out scenes as it trains, the grid's objectness, any
//! cell's raw prediction before non-maximum suppression, mAP@0.5 rising,
//! and can move the two thresholds (no retraining) or draw a scene of their own.

use leptos::prelude::*;

use super::protocol::{
    integers, metrics, tensors, Command as LabCommand, DetectionProtocol, DetectionSettings, Hyper, PlacedShape,
    Reply, DEFAULT_SEED, HELD_OUT, MAX_PLACED, SHOWN,
};
use super::scene_view::{cell_of, class_name, describe, scene_image, Overlay, SceneView, BOX_COLORS};
use crate::components::{
    append_named, named_loss_series, ErrorBanner, History, LineChart, SelectField, Stat, TextField, WeightsControls,
};
use crate::draw::{css_rgb, RgbaImage};
use crate::pages::lab_controls::{spawn_lab_worker, LabTrainControls, SpeedField};
use crate::url_state;
use crate::validate;
use crate::worker::protocol::{Command, Run, Snapshot, SpeedChoice};
use deepplay_core::data::scenes::Shape;
use deepplay_core::detection::{BBox, Detection, Truth};
use deepplay_core::limits;
use deepplay_core::models::detector::GRID;

/// A detection run: its settings, seed and speed.
pub type DetectionConfig = Run<DetectionSettings>;

fn default_config() -> DetectionConfig {
    Run {
        settings: DetectionSettings::default(),
        seed: DEFAULT_SEED,
        speed: SpeedChoice::Full,
    }
}

/// Points kept of each loss curve.
const HISTORY_CAPACITY: usize = 600;

/// Colours the drawn shapes take in turn: bright, like the training scenes'.
const PALETTE: [[f32; 3]; 6] = [
    [0.95, 0.35, 0.3],
    [0.3, 0.85, 0.4],
    [0.35, 0.55, 1.0],
    [1.0, 0.85, 0.25],
    [0.9, 0.4, 0.95],
    [0.3, 0.9, 0.95],
];

/// The text of each field, as typed (possibly invalid).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTexts {
    pub seed: String,
    pub width: String,
    pub learning_rate: String,
    pub batch_size: String,
    pub box_weight: String,
    pub confidence: String,
    pub nms_iou: String,
}

impl FieldTexts {
    pub fn of(config: &DetectionConfig) -> Self {
        let s = &config.settings;
        Self {
            seed: config.seed.to_string(),
            width: s.width.to_string(),
            learning_rate: s.learning_rate.to_string(),
            batch_size: s.batch_size.to_string(),
            box_weight: s.box_weight.to_string(),
            confidence: s.confidence.to_string(),
            nms_iou: s.nms_iou.to_string(),
        }
    }
}

/// Reads a config from URL query pairs. Invalid values fall back to the
/// defaults; the field texts keep what the URL said, so that the message
/// shows next to its field.
pub fn config_from_query(pairs: &[(String, String)]) -> (DetectionConfig, FieldTexts) {
    let mut config = default_config();
    let mut texts = FieldTexts::of(&config);
    let get = |key| url_state::get(pairs, key);
    if let Some(speed) = get("speed").and_then(SpeedChoice::from_key) {
        config.speed = speed;
    }
    if let Some(text) = get("seed") {
        texts.seed = text.to_string();
        if let Ok(v) = validate::seed(text) {
            config.seed = v;
        }
    }
    let read = |key: &'static str, slot: &mut String| {
        let text = get(key)?;
        *slot = text.to_string();
        Some(text)
    };
    let s = &mut config.settings;
    if let Some(v) = read("w", &mut texts.width).and_then(|t| validate::integer_in(t, limits::DETECTOR_WIDTH).ok()) {
        s.width = v;
    }
    if let Some(v) = read("lr", &mut texts.learning_rate).and_then(|t| validate::learning_rate(t).ok()) {
        s.learning_rate = v;
    }
    if let Some(v) = read("batch", &mut texts.batch_size).and_then(|t| validate::integer_in(t, limits::DETECTION_BATCH).ok())
    {
        s.batch_size = v;
    }
    if let Some(v) = read("box", &mut texts.box_weight).and_then(|t| validate::float_in(t, limits::BOX_WEIGHT).ok()) {
        s.box_weight = v;
    }
    if let Some(v) = read("conf", &mut texts.confidence).and_then(|t| validate::float_in(t, limits::THRESHOLD).ok()) {
        s.confidence = v;
    }
    if let Some(v) = read("nms", &mut texts.nms_iou).and_then(|t| validate::float_in(t, limits::THRESHOLD).ok()) {
        s.nms_iou = v;
    }
    (config, texts)
}

/// The URL query that reproduces `config`.
pub fn config_to_query(config: &DetectionConfig) -> Vec<(&'static str, String)> {
    let s = &config.settings;
    vec![
        ("w", s.width.to_string()),
        ("lr", s.learning_rate.to_string()),
        ("batch", s.batch_size.to_string()),
        ("box", s.box_weight.to_string()),
        ("conf", s.confidence.to_string()),
        ("nms", s.nms_iou.to_string()),
        ("seed", config.seed.to_string()),
        ("speed", config.speed.key().to_string()),
    ]
}

/// The shown scenes' objects from the trainer's `[k, 6]` rows (scene,
/// class, x0, y0, x1, y1).
pub fn truth_by_scene(rows: &[f32], scenes: usize) -> Vec<Vec<Truth>> {
    let mut out = vec![Vec::new(); scenes];
    for row in rows.chunks_exact(6) {
        let scene = row[0] as usize;
        if let Some(objects) = out.get_mut(scene) {
            objects.push(Truth {
                class: row[1] as usize,
                bbox: BBox::new(row[2], row[3], row[4], row[5]),
            });
        }
    }
    out
}

/// The placed shapes as boxes, for the dashed "truth" of a drawn scene.
fn placed_truth(placed: &[PlacedShape]) -> Vec<Truth> {
    placed
        .iter()
        .map(|p| Truth {
            class: p.class,
            bbox: BBox::centred(p.cx, p.cy, p.size, p.size),
        })
        .collect()
}

/// One picture's raw prediction out of a block of them.
fn picture(raw: &[f32], i: usize) -> Option<&[f32]> {
    raw.get(i * GRID.len()..(i + 1) * GRID.len())
}

/// What a scene's picture draws: its kept boxes (decoded once, by the caller's
/// memo), each cell's objectness if asked, the real objects and the picked cell.
fn overlay_of(
    raw: Option<&[f32]>,
    detections: Vec<Detection>,
    truth: Vec<Truth>,
    objectness: bool,
    selected: Option<(usize, usize)>,
) -> Overlay {
    let Some(raw) = raw else {
        return Overlay {
            truth,
            ..Overlay::default()
        };
    };
    Overlay {
        detections,
        objectness: if objectness {
            GRID.decode(raw).iter().map(|c| c.objectness).collect()
        } else {
            Vec::new()
        },
        truth,
        selected,
    }
}

/// What the page says the numbers mean.
pub fn lesson(map50: Option<f32>, step: u64, eval_step: Option<u64>) -> String {
    match (map50, eval_step) {
        (Some(map), Some(at)) if at > 0 && map >= 0.9 => format!(
            "mAP@0.5 is {map:.3} on {HELD_OUT} scenes the detector never trained on (measured at step {at}). It \
             looks once: a single pass of the network gives every cell of the 8x8 grid its objectness, box and \
             class, and non-maximum suppression keeps the best of boxes that overlap. No sliding window, no \
             second stage."
        ),
        (Some(map), Some(at)) if at > 0 => format!(
            "mAP@0.5 is {map:.3} at step {at}, and rising: watch the lit cells close in on each shape's centre and \
             the boxes settle on the shapes' edges. Each cell learns three things at once, shown as the loss's \
             parts: is an object's centre here (objectness), where is its box (box), what is it (class)."
        ),
        _ if step == 0 => "Untrained, every cell of the grid doubts there is an object in it (the dimmed \
             scenes) and reports no box. Press Start: fresh scenes are drawn for every step, so the detector \
             never sees the same picture twice."
            .into(),
        _ => "Training: the held-out scenes are measured a few at a time between steps; mAP@0.5 appears once \
             all of them have been."
            .into(),
    }
}

/// A threshold in [0, 1]: a slider and a field beside it that refuses
/// values outside the range. Both change the boxes at once, without training.
#[component]
fn ThresholdField(
    id: &'static str,
    label: &'static str,
    testid: &'static str,
    slider_testid: &'static str,
    text: RwSignal<String>,
    #[prop(into)] value: Signal<f32>,
    #[prop(into)] set: Callback<f32>,
    hint: &'static str,
) -> impl IntoView {
    let error = Signal::derive(move || validate::float_in(&text.get(), limits::THRESHOLD).err());
    let on_commit = move |t: String| {
        if let Ok(v) = validate::float_in(&t, limits::THRESHOLD) {
            set.run(v);
        }
    };
    let on_slide = move |ev| {
        if let Ok(v) = event_target_value(&ev).parse::<f32>() {
            text.set(v.to_string());
            set.run(v);
        }
    };
    view! {
        <div class="threshold">
            <TextField id=id label=label testid=testid value=text error=error hint=hint.to_string() on_commit=on_commit />
            <input
                type="range"
                min="0"
                max="1"
                step="0.01"
                aria-label=label
                data-testid=slider_testid
                prop:value=move || value.get().to_string()
                on:input=on_slide
            />
        </div>
    }
}

#[component]
pub fn DetectionPage() -> impl IntoView {
    let (initial, texts) = config_from_query(&url_state::read());

    // What the worker reports.
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let histories = RwSignal::new(Vec::<(String, History)>::new());
    let params = RwSignal::new(None::<u64>);
    let step_ms = RwSignal::new(None::<f32>);
    let scene_images = RwSignal::new(Vec::<Option<RgbaImage>>::new());
    let truth = RwSignal::new(Vec::<Vec<Truth>>::new());
    let raw = RwSignal::new(Vec::<f32>::new());
    let map50 = RwSignal::new(None::<f32>);
    let precision = RwSignal::new(None::<f32>);
    let recall = RwSignal::new(None::<f32>);
    let counts = RwSignal::new(None::<(u64, u64, u64)>);
    let eval_step = RwSignal::new(None::<u64>);
    let training_error = RwSignal::new(None::<String>);
    let page_error = RwSignal::new(None::<String>);
    // Ask for the drawn scene's detections again when the weights change.
    let drawn_tick = RwSignal::new(0u64);

    // The settings: the last valid ones, and the fields as typed.
    let config = RwSignal::new(initial);
    let seed_text = RwSignal::new(texts.seed);
    let width_text = RwSignal::new(texts.width);
    let lr_text = RwSignal::new(texts.learning_rate);
    let batch_text = RwSignal::new(texts.batch_size);
    let box_text = RwSignal::new(texts.box_weight);
    let confidence_text = RwSignal::new(texts.confidence);
    let nms_text = RwSignal::new(texts.nms_iou);
    let seed_error = Signal::derive(move || validate::seed(&seed_text.get()).err());

    // What the visitor looks at.
    let show_truth = RwSignal::new(false);
    let show_objectness = RwSignal::new(true);
    let selected = RwSignal::new(None::<(usize, usize, usize)>);
    let placed = RwSignal::new(Vec::<PlacedShape>::new());
    let shape_key = RwSignal::new(Shape::Square.name());
    let shape_size = RwSignal::new(16.0f32);
    let drawn = RwSignal::new(None::<(Option<RgbaImage>, Vec<f32>)>);
    let drawn_selected = RwSignal::new(None::<(usize, usize)>);

    let on_snapshot = move |s: Snapshot| {
        if s.fresh_run {
            histories.set(Vec::new());
            step_ms.set(None);
            map50.set(None);
            precision.set(None);
            recall.set(None);
            counts.set(None);
            eval_step.set(None);
            params.set(s.integer(integers::PARAMS));
            if let Some(t) = s.tensor(tensors::SCENES) {
                let len = t.data.len() / SHOWN.max(1);
                scene_images.set(t.data.chunks_exact(len.max(1)).map(scene_image).collect());
            }
            if let Some(t) = s.tensor(tensors::TRUTH) {
                truth.set(truth_by_scene(&t.data, SHOWN));
            }
        }
        step.set(s.step);
        loss.set(s.loss());
        running.set(s.running);
        if !s.losses.is_empty() {
            histories.update(|h| {
                for series in &s.losses {
                    append_named(h, &series.name, &series.new_points, HISTORY_CAPACITY);
                }
            });
        }
        if let Some(ms) = s.metric(metrics::STEP_MS) {
            step_ms.set(Some(ms));
        }
        if let Some(m) = s.metric(metrics::MAP50) {
            map50.set(Some(m));
            precision.set(s.metric(metrics::PRECISION));
            recall.set(s.metric(metrics::RECALL));
            eval_step.set(s.integer(integers::EVAL_STEP));
            counts.set(
                s.integer(integers::TRUE_POSITIVES)
                    .zip(s.integer(integers::DETECTIONS))
                    .zip(s.integer(integers::OBJECTS))
                    .map(|((tp, d), o)| (tp, d, o)),
            );
        }
        if let Some(t) = s.tensor(tensors::RAW) {
            raw.set(t.data.clone());
            drawn_tick.update(|n| *n += 1);
        }
        training_error.set(s.error);
    };
    let on_reply = move |reply: Reply| match reply {
        Reply::Detected { image, raw } => drawn.set(Some((scene_image(&image), raw))),
    };

    let link = spawn_lab_worker::<DetectionProtocol>(on_snapshot, on_reply, move || config.get_untracked(), running, page_error);
    let send = move |command: Command| link.send(command);

    // The address bar always holds the settings of the current run.
    Effect::new(move |_| url_state::replace(&config_to_query(&config.get())));
    // The drawn scene, detected again whenever it or the weights change.
    Effect::new(move |_| {
        drawn_tick.track();
        let shapes = placed.get();
        link.command(&LabCommand::Detect(shapes));
    });

    let set_hyper = move |hyper: Hyper| {
        config.update(|c| hyper.apply(&mut c.settings));
        link.hyper(&hyper);
    };
    let set_speed = move |speed: SpeedChoice| {
        config.update(|c| c.speed = speed);
        send(Command::SetSpeed(speed));
    };
    let set_seed = move |seed: u64| config.update(|s| s.seed = seed);
    let current_seed = Signal::derive(move || config.get().seed);
    let import_weights = move |bytes: Vec<u8>| {
        page_error.set(None);
        send(Command::ImportWeights { bytes });
    };

    let banner = Signal::derive(move || page_error.get().or_else(|| training_error.get()));
    let loss_lines = Signal::derive(move || histories.with(|h| named_loss_series(h)));
    let settings = Signal::derive(move || config.get().settings);

    // A numeric field whose valid, changed value becomes a hyperparameter.
    let numeric_field = move |id: &'static str,
                              label: &'static str,
                              testid: &'static str,
                              text: RwSignal<String>,
                              check: fn(&str) -> Result<Hyper, String>,
                              hint: String| {
        let error = Signal::derive(move || check(&text.get()).err());
        let on_commit = move |t: String| {
            if let Ok(h) = check(&t) {
                let mut changed = config.get_untracked().settings;
                h.apply(&mut changed);
                if changed != config.get_untracked().settings {
                    set_hyper(h);
                }
            }
        };
        view! {
            <TextField id=id label=label testid=testid value=text error=error hint=hint on_commit=on_commit />
        }
    };

    // Each shown scene's kept boxes, decoded once per prediction or threshold
    // change: its picture, its text alternative, the box count and the picked
    // cell's verdict all read this one memo.
    let scene_detections = Memo::new(move |_| {
        let s = settings.get();
        raw.with(|r| {
            (0..SHOWN)
                .map(|i| picture(r, i).map(|p| GRID.detect(p, s.confidence, s.nms_iou)).unwrap_or_default())
                .collect::<Vec<Vec<Detection>>>()
        })
    });
    let detections_of = move |i: usize| scene_detections.with(|d| d.get(i).cloned().unwrap_or_default());
    let scene_label = move |i: usize| {
        Signal::derive(move || {
            let found = detections_of(i);
            let objects = truth.with(|t| t.get(i).map_or(0, Vec::len));
            format!("Held-out scene {} with {objects} shapes. {}", i + 1, describe(&found))
        })
    };
    let scene_overlay = move |i: usize| {
        Signal::derive(move || {
            let truth = if show_truth.get() {
                truth.with(|t| t.get(i).cloned().unwrap_or_default())
            } else {
                Vec::new()
            };
            let chosen = selected.get().and_then(|(scene, row, col)| (scene == i).then_some((row, col)));
            let found = detections_of(i);
            raw.with(|r| overlay_of(picture(r, i), found, truth, show_objectness.get(), chosen))
        })
    };
    let shown_boxes = Signal::derive(move || scene_detections.with(|d| d.iter().map(Vec::len).sum::<usize>()));

    // The picked cell's raw prediction, before the thresholds and NMS.
    let cell_info = move || {
        let (scene, row, col) = selected.get()?;
        let s = settings.get();
        raw.with(|r| {
            let p = picture(r, scene)?;
            let cell = GRID.decode_cell(p, row, col);
            let (class, score) = cell.best();
            let survives = scene_detections.with(|kept| {
                kept.get(scene)
                    .is_some_and(|k| k.iter().any(|d| d.bbox == cell.bbox && d.class == class))
            });
            let probs: Vec<String> = cell
                .class_probs
                .iter()
                .enumerate()
                .map(|(k, p)| format!("{} {:.0}%", class_name(k), p * 100.0))
                .collect();
            let b = cell.bbox;
            Some(format!(
                "Scene {}, cell row {row}, column {col}: objectness {:.1}%; classes {}; box x {:.1} to {:.1}, \
                 y {:.1} to {:.1}; confidence {:.1}% ({}). {}",
                scene + 1,
                cell.objectness * 100.0,
                probs.join(", "),
                b.x0,
                b.x1,
                b.y0,
                b.y1,
                score * 100.0,
                class_name(class),
                if survives {
                    "Shown: above the confidence threshold and the best of its overlapping boxes."
                } else if score < s.confidence {
                    "Not shown: below the confidence threshold."
                } else {
                    "Not shown: non-maximum suppression dropped it for a more confident box of its class."
                }
            ))
        })
    };

    // The drawn scene's kept boxes, decoded once for its picture and its text.
    let drawn_found = Memo::new(move |_| {
        let s = settings.get();
        drawn.with(|d| {
            d.as_ref()
                .map(|(_, raw)| GRID.detect(raw, s.confidence, s.nms_iou))
                .unwrap_or_default()
        })
    });
    let drawn_overlay = Signal::derive(move || {
        let truth = if show_truth.get() { placed.with(|p| placed_truth(p)) } else { Vec::new() };
        let found = drawn_found.get();
        drawn.with(|d| {
            overlay_of(
                d.as_ref().map(|(_, raw)| raw.as_slice()),
                found,
                truth,
                show_objectness.get(),
                drawn_selected.get(),
            )
        })
    });
    let drawn_text = Signal::derive(move || {
        let found: Vec<Detection> = drawn_found.get();
        let n = placed.with(Vec::len);
        if n == 0 && found.is_empty() {
            "An empty scene: nothing found, as it should be. Click or tap the picture (or focus it, move with the arrow keys and press Enter) to place a shape.".to_string()
        } else {
            format!("You placed {n}. {}", describe(&found))
        }
    });
    let place = move |(x, y): (f32, f32)| {
        if placed.with(Vec::len) >= MAX_PLACED {
            page_error.set(Some(format!(
                "A drawn scene holds up to {MAX_PLACED} shapes: remove some (Undo or Clear) to place more."
            )));
            return;
        }
        let class = Shape::ALL
            .iter()
            .find(|s| s.name() == shape_key.get_untracked())
            .map_or(1, |s| s.class());
        let size = shape_size.get_untracked();
        let half = size / 2.0;
        placed.update(|p| {
            let colour = PALETTE[p.len() % PALETTE.len()];
            p.push(PlacedShape {
                class,
                cx: x.clamp(half, 64.0 - half),
                cy: y.clamp(half, 64.0 - half),
                size,
                colour,
            });
        });
        drawn_selected.set(None);
    };

    let stat = |v: Option<f32>, digits: usize| v.map(|q| format!("{q:.digits$}")).unwrap_or_else(|| "\u{2013}".into());
    let shape_options: Vec<(&'static str, &'static str)> =
        vec![("circle", "Circle"), ("square", "Square"), ("triangle", "Triangle")];

    view! {
        <article class="page lab" data-testid="detection">
            <header class="lab-header">
                <p class="eyebrow">"Lab \u{b7} live"</p>
                <h1>"Object detection: you only look once"</h1>
                <p class="lede">
                    "A small convolutional network lays an 8x8 grid over each picture. Every cell says whether the \
                     centre of a shape falls inside it, where that shape's box is and what shape it is, all in one \
                     pass. Train it on scenes your browser draws, watch it find circles, squares and triangles it \
                     has never seen, and draw a scene of your own."
                </p>
            </header>
            <ErrorBanner error=banner />
            <div class="lab-layout detection-layout">
                <section class="panel controls-panel" aria-labelledby="controls-title">
                    <h2 id="controls-title">"Train"</h2>
                    <LabTrainControls send=send running=running step=step loss=loss seed_text=seed_text seed_error=seed_error seed=current_seed set_seed=set_seed page_error=page_error />
                    <WeightsControls on_export=move |_| send(Command::ExportWeights) on_import=import_weights />
                    <SpeedField speed=Signal::derive(move || config.get().speed) set_speed=set_speed />
                    <h2>"What is shown"</h2>
                    <ThresholdField
                        id="confidence"
                        label="Confidence threshold"
                        testid="confidence-input"
                        slider_testid="confidence-slider"
                        text=confidence_text
                        value=Signal::derive(move || settings.get().confidence)
                        set=move |v| set_hyper(Hyper::Confidence(v))
                        hint="0 to 1: a box is shown when objectness times its class's probability reaches this"
                    />
                    <ThresholdField
                        id="nms"
                        label="NMS IoU threshold"
                        testid="nms-input"
                        slider_testid="nms-slider"
                        text=nms_text
                        value=Signal::derive(move || settings.get().nms_iou)
                        set=move |v| set_hyper(Hyper::NmsIou(v))
                        hint="0 to 1: a box overlapping a more confident one of its class by more than this is dropped"
                    />
                    <div class="toggles">
                        <label class="toggle">
                            <input type="checkbox" data-testid="truth-toggle" prop:checked=move || show_truth.get() on:change=move |ev| show_truth.set(event_target_checked(&ev)) />
                            "Real objects (dashed)"
                        </label>
                        <label class="toggle">
                            <input type="checkbox" data-testid="objectness-toggle" prop:checked=move || show_objectness.get() on:change=move |ev| show_objectness.set(event_target_checked(&ev)) />
                            "Objectness of each cell"
                        </label>
                    </div>
                    <h2>"The detector"</h2>
                    <div class="field-grid">
                        {numeric_field(
                            "width",
                            "Width",
                            "width-input",
                            width_text,
                            |t| validate::integer_in(t, limits::DETECTOR_WIDTH).map(Hyper::Width),
                            format!("{}; the first layer's filters, doubled twice", validate::range_hint(limits::DETECTOR_WIDTH)),
                        )}
                        {numeric_field(
                            "lr",
                            "Learning rate",
                            "lr-input",
                            lr_text,
                            |t| validate::learning_rate(t).map(Hyper::LearningRate),
                            "Adam; 0.003 trains steadily".to_string(),
                        )}
                        {numeric_field(
                            "batch",
                            "Batch size",
                            "batch-input",
                            batch_text,
                            |t| validate::integer_in(t, limits::DETECTION_BATCH).map(Hyper::BatchSize),
                            format!("{} fresh scenes per step", validate::range_hint(limits::DETECTION_BATCH)),
                        )}
                        {numeric_field(
                            "box-weight",
                            "Box weight",
                            "box-weight-input",
                            box_text,
                            |t| validate::float_in(t, limits::BOX_WEIGHT).map(Hyper::BoxWeight),
                            "How much the box error counts (YOLO's \u{3bb}coord, 5)".to_string(),
                        )}
                    </div>
                    <p class="note">
                        {move || {
                            let params = params.get().map(|p| format!("{p} parameters. ")).unwrap_or_default();
                            let ms = step_ms.get().map(|ms| format!(" About {ms:.0} ms per step here.")).unwrap_or_default();
                            format!(
                                "{params}Four 3x3 convolutions (max-pooling after the first three) take a 64x64 \
                                 scene to the 8x8 grid; a 1x1 convolution gives each cell its prediction. The width \
                                 starts a new run; the rest change on the fly.{ms}"
                            )
                        }}
                    </p>
                </section>
                <section class="panel detections-panel" aria-labelledby="detections-title">
                    <h2 id="detections-title">"Held-out scenes"</h2>
                    <div class="scene-grid" data-testid="detections" data-count=move || shown_boxes.get() data-step=move || step.get()>
                        {(0..SHOWN)
                            .map(|i| {
                                view! {
                                    <SceneView
                                        image=Signal::derive(move || scene_images.with(|s| s.get(i).cloned().flatten()))
                                        overlay=scene_overlay(i)
                                        label=scene_label(i)
                                        on_point=move |(x, y): (f32, f32)| {
                                            let (row, col) = cell_of(x, y);
                                            selected.set(Some((i, row, col)));
                                        }
                                        testid="scene"
                                        pick_on_move=true
                                    />
                                }
                            })
                            .collect_view()}
                    </div>
                    <ul class="legend">
                        {(0..3)
                            .map(|k| {
                                view! {
                                    <li>
                                        <span class="swatch" style:background=css_rgb(BOX_COLORS[k])></span>
                                        {class_name(k)}
                                    </li>
                                }
                            })
                            .collect_view()}
                        <li><span class="swatch dashed"></span>"real object"</li>
                    </ul>
                    <p class="note cell-info" data-testid="cell-info" aria-live="polite">
                        {move || cell_info().unwrap_or_else(|| {
                            "Click or tap a cell of a scene (or focus a scene and use the arrow keys) to see its raw prediction before the thresholds and non-maximum suppression.".into()
                        })}
                    </p>
                    <div class="stats-row">
                        <Stat
                            label="mAP@0.5"
                            testid="map50"
                            value=Signal::derive(move || map50.get().map(|q| q.to_string()).unwrap_or_default())
                            display=Signal::derive(move || stat(map50.get(), 3))
                        />
                        <Stat
                            label="Precision"
                            testid="precision"
                            value=Signal::derive(move || precision.get().map(|q| q.to_string()).unwrap_or_default())
                            display=Signal::derive(move || stat(precision.get(), 3))
                        />
                        <Stat
                            label="Recall"
                            testid="recall"
                            value=Signal::derive(move || recall.get().map(|q| q.to_string()).unwrap_or_default())
                            display=Signal::derive(move || stat(recall.get(), 3))
                        />
                    </div>
                    <p class="lesson" data-testid="lesson">{move || lesson(map50.get(), step.get(), eval_step.get())}</p>
                    <p class="note">
                        {move || {
                            let counts = counts.get().map(|(tp, d, o)| {
                                format!(
                                    " At the current confidence threshold it reports {d} boxes on the {HELD_OUT} \
                                     held-out scenes, {tp} of them right, for {o} real objects."
                                )
                            });
                            format!(
                                "A box is right when it overlaps a real object of its class by an IoU of at least \
                                 0.5. Precision is the share of reported boxes that are right, recall the share of \
                                 objects found; mAP@0.5 averages, over the three shapes, the precision across every \
                                 recall as the threshold falls, so it does not depend on the confidence slider.{}",
                                counts.unwrap_or_default()
                            )
                        }}
                    </p>
                </section>
                <section class="panel drawing-panel" aria-labelledby="drawing-title">
                    <h2 id="drawing-title">"Draw your own scene"</h2>
                    <div class="field-grid">
                        <SelectField
                            id="shape"
                            label="Shape"
                            testid="shape-select"
                            options=shape_options
                            value=Signal::derive(move || shape_key.get())
                            on_change=move |key: String| {
                                if let Some(shape) = Shape::ALL.iter().find(|s| s.name() == key) {
                                    shape_key.set(shape.name());
                                }
                            }
                        />
                        <div class="field">
                            <label for="shape-size">{move || format!("Size: {:.0} px", shape_size.get())}</label>
                            <input
                                id="shape-size"
                                type="range"
                                min="8"
                                max="28"
                                step="1"
                                data-testid="shape-size"
                                prop:value=move || shape_size.get().to_string()
                                on:input=move |ev| {
                                    if let Ok(v) = event_target_value(&ev).parse::<f32>() {
                                        shape_size.set(v);
                                    }
                                }
                            />
                        </div>
                    </div>
                    <SceneView
                        image=Signal::derive(move || drawn.with(|d| d.as_ref().and_then(|(image, _)| image.clone())))
                        overlay=drawn_overlay
                        label=drawn_text
                        on_point=place
                        testid="draw-scene"
                    />
                    <div class="step-buttons">
                        <button type="button" class="button" data-testid="undo-shape" on:click=move |_| placed.update(|p| { p.pop(); })>
                            "Undo"
                        </button>
                        <button type="button" class="button" data-testid="clear-scene" on:click=move |_| placed.set(Vec::new())>
                            "Clear"
                        </button>
                    </div>
                    <p class="note" data-testid="drawn-result" aria-live="polite">{drawn_text}</p>
                    <p class="explain">
                        "Shapes the training scenes never hold (overlapping, tiny, huge, many) show where the \
                         detector's experience ends. The picture gets the same kind of noisy background as the \
                         training scenes."
                    </p>
                </section>
                <section class="panel training-panel" aria-labelledby="training-title">
                    <h2 id="training-title">"The loss and its parts"</h2>
                    <LineChart
                        series=loss_lines
                        testid="loss-chart"
                        title="Total loss and its box, objectness and class parts by step"
                        x_label="step"
                    />
                    <p class="explain">
                        "YOLO's loss is a sum over cells. Objectness: binary cross-entropy of whether an object's \
                         centre is in the cell (empty cells count half, since most cells are empty). Box: squared \
                         error of the centre within the cell and of the log of width and height, times the box \
                         weight, in cells with an object. Class: cross-entropy of the shape, in cells with an object."
                    </p>
                </section>
            </div>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(query: &str) -> Vec<(String, String)> {
        url_state::parse_query(query)
    }

    #[test]
    fn the_url_round_trips_and_bad_values_stay_in_their_fields() {
        let (config, texts) = config_from_query(&pairs("w=12&lr=0.001&batch=8&box=2&conf=0.3&nms=0.6&seed=5&speed=slow"));
        let s = &config.settings;
        assert_eq!((s.width, s.batch_size, config.seed), (12, 8, 5));
        assert_eq!((s.learning_rate, s.box_weight, s.confidence, s.nms_iou), (0.001, 2.0, 0.3, 0.6));
        assert_eq!(texts, FieldTexts::of(&config));
        let query: Vec<(String, String)> =
            config_to_query(&config).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(config_from_query(&query).0, config);

        let (config, texts) = config_from_query(&pairs("conf=1.5&nms=-0.2&w=99&batch=0"));
        assert_eq!(config, default_config());
        assert_eq!((texts.confidence.as_str(), texts.nms_iou.as_str()), ("1.5", "-0.2"));
        assert!(validate::float_in(&texts.confidence, limits::THRESHOLD).is_err());
        assert_eq!(texts.width, "99");
    }

    #[test]
    fn truth_rows_go_to_their_scenes() {
        let rows = [0.0, 1.0, 1.0, 2.0, 3.0, 4.0, 2.0, 0.0, 10.0, 10.0, 20.0, 20.0, 9.0, 0.0, 0.0, 0.0, 1.0, 1.0];
        let by_scene = truth_by_scene(&rows, 3);
        assert_eq!(by_scene.iter().map(Vec::len).collect::<Vec<_>>(), [1, 0, 1]);
        assert_eq!(by_scene[2][0].bbox, BBox::new(10.0, 10.0, 20.0, 20.0));
        assert_eq!(by_scene[0][0].class, 1);
    }

    #[test]
    fn the_lesson_follows_the_measurement() {
        assert!(lesson(None, 0, None).contains("Untrained"));
        assert!(lesson(Some(0.4), 100, Some(100)).contains("rising"));
        assert!(lesson(Some(0.95), 900, Some(880)).contains("looks once"));
        assert!(lesson(None, 10, None).contains("measured a few at a time"));
    }
}
