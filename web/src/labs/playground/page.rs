//! `/playground`: a small MLP learns to classify a 2-D dataset, live.
//!
//! The page owns the fields and the drawing; the worker owns the model. A
//! field change is validated here, then sent as a [`Hyper`]; the
//! worker's snapshots update the signals the widgets draw. Every valid
//! setting is mirrored into the URL query.

use leptos::prelude::*;

use super::protocol::{
    metrics, tensors, ActivationChoice, DatasetChoice, Hyper, PlaygroundProtocol, PlaygroundSettings, DEFAULT_SEED,
};
use crate::pages::lab_controls::{spawn_lab_worker, LabTrainControls, SpeedField};
use crate::components::{
    loss_series, Dot, ErrorBanner, Heatmap, History, LineChart, SelectField, Stat, TextField, WeightsControls,
};
use crate::draw::{class_color, class_probability_image, css_rgb, format_number, RgbaImage};
use crate::url_state;
use crate::validate;
use crate::worker::protocol::{Command, OptimizerChoice, Run, Snapshot, SpeedChoice};

/// A playground run: its settings, seed and speed.
pub type PlaygroundConfig = Run<PlaygroundSettings>;

fn default_config() -> PlaygroundConfig {
    Run {
        settings: PlaygroundSettings::default(),
        seed: DEFAULT_SEED,
        speed: SpeedChoice::Full,
    }
}

/// Points kept in the loss chart.
const HISTORY_CAPACITY: usize = 1200;

/// The text of each field, as typed (possibly invalid).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTexts {
    pub seed: String,
    pub learning_rate: String,
    pub batch_size: String,
    pub hidden: String,
    pub noise: String,
}

impl FieldTexts {
    pub fn of(config: &PlaygroundConfig) -> Self {
        Self {
            seed: config.seed.to_string(),
            learning_rate: config.settings.learning_rate.to_string(),
            batch_size: config.settings.batch_size.to_string(),
            hidden: validate::format_hidden(&config.settings.hidden),
            noise: config.settings.noise.to_string(),
        }
    }
}

/// Reads a config from URL query pairs. Missing or invalid values fall back
/// to the defaults; the field texts keep what the URL said, so an invalid
/// value shows its message next to its field.
pub fn config_from_query(pairs: &[(String, String)]) -> (PlaygroundConfig, FieldTexts) {
    let mut config = default_config();
    let mut texts = FieldTexts::of(&config);
    let get = |key| url_state::get(pairs, key);
    if let Some(d) = get("data").and_then(DatasetChoice::from_key) {
        config.settings.dataset = d;
    }
    if let Some(a) = get("act").and_then(ActivationChoice::from_key) {
        config.settings.activation = a;
    }
    if let Some(o) = get("opt").and_then(OptimizerChoice::from_key) {
        config.settings.optimizer = o;
    }
    if let Some(speed) = get("speed").and_then(SpeedChoice::from_key) {
        config.speed = speed;
    }
    if let Some(text) = get("seed") {
        texts.seed = text.to_string();
        if let Ok(v) = validate::seed(text) {
            config.seed = v;
        }
    }
    if let Some(text) = get("lr") {
        texts.learning_rate = text.to_string();
        if let Ok(v) = validate::learning_rate(text) {
            config.settings.learning_rate = v;
        }
    }
    if let Some(text) = get("batch") {
        texts.batch_size = text.to_string();
        if let Ok(v) = validate::batch_size(text) {
            config.settings.batch_size = v;
        }
    }
    if let Some(text) = get("hidden") {
        texts.hidden = text.to_string();
        if let Ok(v) = validate::hidden_sizes(text) {
            config.settings.hidden = v;
        }
    }
    if let Some(text) = get("noise") {
        texts.noise = text.to_string();
        if let Ok(v) = validate::noise(text) {
            config.settings.noise = v;
        }
    }
    (config, texts)
}

/// The URL query that reproduces `config`.
pub fn config_to_query(config: &PlaygroundConfig) -> Vec<(&'static str, String)> {
    vec![
        ("data", config.settings.dataset.key().to_string()),
        ("hidden", validate::format_hidden(&config.settings.hidden)),
        ("act", config.settings.activation.key().to_string()),
        ("opt", config.settings.optimizer.key().to_string()),
        ("lr", config.settings.learning_rate.to_string()),
        ("batch", config.settings.batch_size.to_string()),
        ("noise", config.settings.noise.to_string()),
        ("seed", config.seed.to_string()),
        ("speed", config.speed.key().to_string()),
    ]
}

/// The data points as dots over a view of `[-extent, extent]^2`.
fn dots_from(snapshot: &Snapshot) -> Option<Vec<Dot>> {
    let points = snapshot.tensor(tensors::POINTS)?;
    let labels = snapshot.tensor(tensors::LABELS)?;
    let extent = *snapshot.tensor(tensors::EXTENT)?.data.first()?;
    if extent <= 0.0 {
        return None;
    }
    Some(
        points
            .data
            .chunks_exact(2)
            .zip(&labels.data)
            .map(|(p, &label)| Dot {
                x: (p[0] + extent) / (2.0 * extent),
                y: 1.0 - (p[1] + extent) / (2.0 * extent),
                color: class_color(label as usize),
            })
            .collect(),
    )
}

fn decision_image(snapshot: &Snapshot) -> Option<RgbaImage> {
    let grid = snapshot.tensor(tensors::DECISION)?;
    let [rows, cols, classes] = grid.shape[..] else {
        return None;
    };
    Some(class_probability_image(&grid.data, rows, cols, classes))
}

#[component]
pub fn PlaygroundPage() -> impl IntoView {
    let (initial, texts) = config_from_query(&url_state::read());

    // What the worker reports.
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let accuracy = RwSignal::new(None::<f32>);
    let steps_per_second = RwSignal::new(0.0f32);
    let history = RwSignal::new(History::new(HISTORY_CAPACITY));
    let decision = RwSignal::new(None::<RgbaImage>);
    let dots = RwSignal::new(Vec::<Dot>::new());
    let classes = RwSignal::new(0usize);
    // A training failure reported by the worker (cleared by the worker on
    // reset), and one the page noticed itself (a crashed worker).
    let training_error = RwSignal::new(None::<String>);
    let page_error = RwSignal::new(None::<String>);

    // The settings: the last valid ones, and the fields as typed.
    let config = RwSignal::new(initial.clone());
    let seed_text = RwSignal::new(texts.seed);
    let lr_text = RwSignal::new(texts.learning_rate);
    let batch_text = RwSignal::new(texts.batch_size);
    let hidden_text = RwSignal::new(texts.hidden);
    let noise_text = RwSignal::new(texts.noise);
    let seed_error = Signal::derive(move || validate::seed(&seed_text.get()).err());
    let lr_error = Signal::derive(move || validate::learning_rate(&lr_text.get()).err());
    let batch_error = Signal::derive(move || validate::batch_size(&batch_text.get()).err());
    let hidden_error = Signal::derive(move || validate::hidden_sizes(&hidden_text.get()).err());
    let noise_error = Signal::derive(move || validate::noise(&noise_text.get()).err());

    let on_snapshot = move |s: Snapshot| {
        if s.fresh_run {
            history.update(History::clear);
            accuracy.set(None);
        }
        step.set(s.step);
        loss.set(s.loss());
        running.set(s.running);
        steps_per_second.set(s.steps_per_second);
        if let Some(series) = s.series("loss").filter(|l| !l.new_points.is_empty()) {
            history.update(|h| {
                for &(x, y) in &series.new_points {
                    h.push(x as f64, f64::from(y));
                }
            });
        }
        if let Some(a) = s.metric(metrics::ACCURACY) {
            accuracy.set(Some(a));
        }
        if let Some(image) = decision_image(&s) {
            if let Some(grid) = s.tensor(tensors::DECISION) {
                classes.set(grid.shape[2]);
            }
            decision.set(Some(image));
        }
        if let Some(new_dots) = dots_from(&s) {
            dots.set(new_dots);
        }
        training_error.set(s.error);
    };

    // Configured again after a crash: the restarted worker knows nothing yet.
    let link = spawn_lab_worker::<PlaygroundProtocol>(
        on_snapshot,
        |()| {},
        move || config.get_untracked(),
        running,
        page_error,
    );
    let send = move |command: Command| link.send(command);

    // The address bar always holds the settings of the current run.
    Effect::new(move |_| url_state::replace(&config_to_query(&config.get())));

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
    let loss_lines = Signal::derive(move || history.with(loss_series));
    let legend = move || {
        (0..classes.get())
            .map(|k| {
                let background = css_rgb(class_color(k));
                view! {
                    <li>
                        <span class="swatch round" style:background=background aria-hidden="true"></span>
                        {format!("class {k}")}
                    </li>
                }
            })
            .collect_view()
    };

    let dataset_options = DatasetChoice::options();
    let activation_options = ActivationChoice::options();
    let optimizer_options = OptimizerChoice::options();
    view! {
        <article class="page lab" data-testid="playground">
            <header class="lab-header">
                <p class="eyebrow">"Lab \u{b7} live"</p>
                <h1>"2-D playground"</h1>
                <p class="lede">
                    "A small multilayer perceptron learns to tell the classes apart. The \
                     shading is its prediction for every point of the plane: watch the \
                     boundary bend around the data as it trains."
                </p>
            </header>
            <ErrorBanner error=banner />
            <div class="lab-layout">
                <section class="panel controls-panel" aria-labelledby="controls-title">
                    <h2 id="controls-title">"Train"</h2>
                    <LabTrainControls send=send running=running step=step loss=loss seed_text=seed_text seed_error=seed_error seed=current_seed set_seed=set_seed page_error=page_error />
                    <WeightsControls
                        on_export=move |_| send(Command::ExportWeights)
                        on_import=import_weights
                    />
                    <SpeedField speed=Signal::derive(move || config.get().speed) set_speed=set_speed />
                    <h2>"Data and model"</h2>
                    <div class="field-grid">
                        <SelectField
                            id="dataset"
                            label="Dataset"
                            testid="dataset-select"
                            options=dataset_options
                            value=Signal::derive(move || config.get().settings.dataset.key())
                            on_change=move |key: String| {
                                if let Some(d) = DatasetChoice::from_key(&key) {
                                    set_hyper(Hyper::Dataset(d));
                                }
                            }
                        />
                        <TextField
                            id="noise"
                            label="Noise"
                            testid="noise-input"
                            value=noise_text
                            error=noise_error
                            hint=validate::range_hint(deepplay_core::limits::NOISE)
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::noise(&text) {
                                    if v != config.get_untracked().settings.noise {
                                        set_hyper(Hyper::Noise(v));
                                    }
                                }
                            }
                        />
                        <TextField
                            id="hidden"
                            label="Hidden layers"
                            testid="hidden-input"
                            value=hidden_text
                            error=hidden_error
                            hint="Widths, e.g. 16,16"
                            inputmode="text"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::hidden_sizes(&text) {
                                    if v != config.get_untracked().settings.hidden {
                                        set_hyper(Hyper::Hidden(v));
                                    }
                                }
                            }
                        />
                        <SelectField
                            id="activation"
                            label="Activation"
                            testid="activation-select"
                            options=activation_options
                            value=Signal::derive(move || config.get().settings.activation.key())
                            on_change=move |key: String| {
                                if let Some(a) = ActivationChoice::from_key(&key) {
                                    set_hyper(Hyper::Activation(a));
                                }
                            }
                        />
                        <SelectField
                            id="optimizer"
                            label="Optimizer"
                            testid="optimizer-select"
                            options=optimizer_options
                            value=Signal::derive(move || config.get().settings.optimizer.key())
                            on_change=move |key: String| {
                                if let Some(o) = OptimizerChoice::from_key(&key) {
                                    set_hyper(Hyper::Optimizer(o));
                                }
                            }
                        />
                        <TextField
                            id="lr"
                            label="Learning rate"
                            testid="lr-input"
                            value=lr_text
                            error=lr_error
                            hint="Greater than 0; 0.001 to 0.1 works well"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::learning_rate(&text) {
                                    if v != config.get_untracked().settings.learning_rate {
                                        set_hyper(Hyper::LearningRate(v));
                                    }
                                }
                            }
                        />
                        <TextField
                            id="batch"
                            label="Batch size"
                            testid="batch-input"
                            value=batch_text
                            error=batch_error
                            hint=validate::range_hint(deepplay_core::limits::BATCH_SIZE)
                            inputmode="numeric"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::batch_size(&text) {
                                    if v != config.get_untracked().settings.batch_size {
                                        set_hyper(Hyper::BatchSize(v));
                                    }
                                }
                            }
                        />
                    </div>
                    <p class="note">
                        "Changing the data or the network starts a new run; the learning rate, \
                         batch size, optimizer and speed change on the fly."
                    </p>
                </section>
                <section class="panel boundary-panel" aria-labelledby="boundary-title">
                    <h2 id="boundary-title">"Decision boundary"</h2>
                    <Heatmap
                        image=decision
                        dots=dots
                        testid="decision-heatmap"
                        label="The model's predicted class over the plane, with the training points"
                    />
                    <ul class="legend">{legend}</ul>
                </section>
                <section class="panel progress-panel" aria-labelledby="progress-title">
                    <h2 id="progress-title">"Progress"</h2>
                    <div class="stats">
                        <Stat
                            label="Accuracy"
                            testid="accuracy"
                            value=Signal::derive(move || {
                                accuracy.get().map(|a| a.to_string()).unwrap_or_default()
                            })
                            display=Signal::derive(move || {
                                accuracy
                                    .get()
                                    .map(|a| format!("{:.1}%", a * 100.0))
                                    .unwrap_or_else(|| "\u{2013}".into())
                            })
                        />
                        <Stat
                            label="Steps / s"
                            testid="steps-per-second"
                            value=Signal::derive(move || steps_per_second.get().to_string())
                            display=Signal::derive(move || {
                                if running.get() {
                                    format_number(f64::from(steps_per_second.get()).round())
                                } else {
                                    "\u{2013}".into()
                                }
                            })
                        />
                    </div>
                    <LineChart
                        series=loss_lines
                        testid="loss-chart"
                        title="Training loss (cross-entropy) by step"
                        empty_text="Press Start to train"
                    />
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
    fn the_query_round_trips_a_config() {
        let config = PlaygroundConfig {
            settings: PlaygroundSettings {
                dataset: DatasetChoice::Circles,
                hidden: vec![8, 4],
                activation: ActivationChoice::Tanh,
                optimizer: OptimizerChoice::Sgd,
                learning_rate: 0.3,
                batch_size: 7,
                noise: 0.25,
            },
            seed: 99,
            speed: SpeedChoice::Slow,
        };
        let query = url_state::encode_query(&config_to_query(&config));
        let (parsed, texts) = config_from_query(&pairs(&query));
        assert_eq!(parsed, config);
        assert_eq!(texts, FieldTexts::of(&config));
    }

    #[test]
    fn bad_query_values_fall_back_but_stay_in_their_fields() {
        let (config, texts) = config_from_query(&pairs("lr=-1&seed=abc&batch=0&data=nope"));
        assert_eq!(config, default_config());
        assert_eq!(texts.learning_rate, "-1");
        assert_eq!(texts.seed, "abc");
        assert_eq!(texts.batch_size, "0");
    }
}
