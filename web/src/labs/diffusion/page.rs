//! `/diffusion`: a DDPM learns a 2-D distribution live. The forward process
//! turns data into noise on a schedule; the network learns to guess that
//! noise; sampling runs the process backwards, and the visitor scrubs
//! through every denoising step.

use leptos::prelude::*;

use super::protocol::{
    integers, metrics, tensors, ActivationChoice, Command as LabCommand, DataChoice, DiffusionProtocol,
    DiffusionSettings, Hyper, SamplerChoice, ScheduleChoice, DEFAULT_SEED, LOSS_BUCKETS, SAMPLES,
};
use crate::components::{
    loss_series, palette_color, ErrorBanner, History, LineChart, PointCloud, PointsPanel, SelectField, Series, Stat, TextField,
    WeightsControls,
};
use crate::draw::format_number;
use crate::pages::lab_controls::{spawn_lab_worker, LabTrainControls, SpeedField};
use crate::url_state::{self, decode_points, encode_points};
use crate::validate;
use crate::worker::protocol::{Command, OptimizerChoice, Run, Snapshot, SpeedChoice};
use deepplay_core::data::points::{EXTENT, MIN_DRAWN_POINTS};
use deepplay_core::limits;

/// A Diffusion run: its settings, seed and speed.
pub type DiffusionConfig = Run<DiffusionSettings>;

fn default_config() -> DiffusionConfig {
    Run {
        settings: DiffusionSettings::default(),
        seed: DEFAULT_SEED,
        speed: SpeedChoice::Full,
    }
}

/// Points kept of the loss curve.
const HISTORY_CAPACITY: usize = 600;

/// Samples count as matching the data when their distance is within this
/// fraction of the way from a fresh data sample's score to the noise's.
const MATCH_MARGIN: f32 = 0.15;

/// How long the Play button takes from noise to samples.
const PLAY_MS: u64 = 3000;

/// The text of each field, as typed (possibly invalid).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTexts {
    pub seed: String,
    pub steps: String,
    pub ddim_steps: String,
    pub eta: String,
    pub width: String,
    pub layers: String,
    pub learning_rate: String,
    pub batch_size: String,
}

impl FieldTexts {
    pub fn of(config: &DiffusionConfig) -> Self {
        let s = &config.settings;
        Self {
            seed: config.seed.to_string(),
            steps: s.steps.to_string(),
            ddim_steps: s.ddim_steps.to_string(),
            eta: s.eta.to_string(),
            width: s.width.to_string(),
            layers: s.layers.to_string(),
            learning_rate: s.learning_rate.to_string(),
            batch_size: s.batch_size.to_string(),
        }
    }
}

/// Reads a config from URL query pairs. Invalid values fall back to the
/// defaults; the field texts keep what the URL said, so that the message
/// shows next to its field.
pub fn config_from_query(pairs: &[(String, String)]) -> (DiffusionConfig, FieldTexts) {
    let mut config = default_config();
    let mut texts = FieldTexts::of(&config);
    let get = |key| url_state::get(pairs, key);
    let s = &mut config.settings;
    if let Some(v) = get("data").and_then(DataChoice::from_key) {
        s.data = v;
    }
    if let Some(points) = get("pts").and_then(decode_points) {
        s.drawn = points;
    }
    // A drawing too small to train on (or none) is not a dataset yet.
    if s.data == DataChoice::Drawn && s.drawn.len() < MIN_DRAWN_POINTS {
        s.data = DataChoice::Ring;
    }
    if let Some(v) = get("schedule").and_then(ScheduleChoice::from_key) {
        s.schedule = v;
    }
    if let Some(v) = get("sampler").and_then(SamplerChoice::from_key) {
        s.sampler = v;
    }
    if let Some(v) = get("act").and_then(ActivationChoice::from_key) {
        s.activation = v;
    }
    if let Some(o) = get("opt").and_then(OptimizerChoice::from_key) {
        s.optimizer = o;
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
    let read = |key: &'static str, slot: &mut String| {
        let text = get(key)?;
        *slot = text.to_string();
        Some(text)
    };
    let s = &mut config.settings;
    if let Some(v) = read("T", &mut texts.steps).and_then(|t| validate::diffusion_steps(t).ok()) {
        s.steps = v;
    }
    if let Some(v) = read("ddim", &mut texts.ddim_steps).and_then(|t| validate::ddim_steps(t, s.steps).ok()) {
        s.ddim_steps = v;
    }
    // The default DDIM steps may be more than a small T from the URL.
    if s.ddim_steps > s.steps {
        s.ddim_steps = s.steps;
        texts.ddim_steps = s.steps.to_string();
    }
    if let Some(v) = read("eta", &mut texts.eta).and_then(|t| validate::eta(t).ok()) {
        s.eta = v;
    }
    if let Some(v) = read("width", &mut texts.width).and_then(|t| validate::denoiser_width(t).ok()) {
        s.width = v;
    }
    if let Some(v) = read("layers", &mut texts.layers).and_then(|t| validate::denoiser_layers(t).ok()) {
        s.layers = v;
    }
    if let Some(v) = read("lr", &mut texts.learning_rate).and_then(|t| validate::learning_rate(t).ok()) {
        s.learning_rate = v;
    }
    if let Some(v) = read("batch", &mut texts.batch_size).and_then(|t| validate::batch_size(t).ok()) {
        s.batch_size = v;
    }
    (config, texts)
}

/// The URL query that reproduces `config`.
pub fn config_to_query(config: &DiffusionConfig) -> Vec<(&'static str, String)> {
    let s = &config.settings;
    let mut query = vec![("data", s.data.key().to_string())];
    if s.data == DataChoice::Drawn {
        query.push(("pts", encode_points(&s.drawn)));
    }
    query.extend([
        ("schedule", s.schedule.key().to_string()),
        ("T", s.steps.to_string()),
        ("sampler", s.sampler.key().to_string()),
        ("ddim", s.ddim_steps.to_string()),
        ("eta", s.eta.to_string()),
        ("width", s.width.to_string()),
        ("layers", s.layers.to_string()),
        ("act", s.activation.key().to_string()),
        ("opt", s.optimizer.key().to_string()),
        ("lr", s.learning_rate.to_string()),
        ("batch", s.batch_size.to_string()),
        ("seed", config.seed.to_string()),
        ("speed", config.speed.key().to_string()),
    ]);
    query
}

/// Splits a `[k, n, 2]` tensor into its k frames.
fn frames_of(shape: &[usize], data: &[f32]) -> Vec<Vec<f32>> {
    let [k, n, 2] = shape[..] else {
        return Vec::new();
    };
    if data.len() != k * n * 2 {
        return Vec::new();
    }
    data.chunks_exact(n * 2).map(<[f32]>::to_vec).collect()
}

/// beta_t and alpha-bar_t over t = 1..T, from the `[2, T]` table.
pub fn schedule_series(table: &[f32]) -> Vec<Series> {
    let steps = table.len() / 2;
    let line = |label: &str, index: usize, values: &[f32]| Series {
        label: label.into(),
        color: palette_color(index),
        width: 2.0,
        alpha: 1.0,
        points: values
            .iter()
            .enumerate()
            .map(|(t, &v)| ((t + 1) as f64, f64::from(v)))
            .collect(),
    };
    if steps == 0 {
        return Vec::new();
    }
    vec![
        line("\u{3b2}\u{209c} (noise added at step t)", 1, &table[..steps]),
        line("\u{101}\u{209c} (signal left after t steps)", 0, &table[steps..]),
    ]
}

/// The buckets' bars as `(height fraction, label)`, tallest 1.
pub fn bucket_bars(buckets: &[f32], steps: usize) -> Vec<(f32, String, f32)> {
    let top = buckets.iter().filter(|v| v.is_finite()).fold(0.0f32, |m, &v| m.max(v));
    let n = buckets.len().max(1);
    buckets
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let (lo, hi) = (i * steps / n + 1, (i + 1) * steps / n);
            let height = if v.is_finite() && top > 0.0 { v / top } else { 0.0 };
            (height, format!("t {lo}\u{2013}{hi}"), v)
        })
        .collect()
}

#[component]
pub fn DiffusionPage() -> impl IntoView {
    let (initial, texts) = config_from_query(&url_state::read());
    let initial_drawing = initial.settings.drawn.clone();

    // What the worker reports.
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let history = RwSignal::new(History::new(HISTORY_CAPACITY));
    let params = RwSignal::new(None::<u64>);
    let step_ms = RwSignal::new(None::<f32>);
    let data = RwSignal::new(Vec::<f32>::new());
    let strip = RwSignal::new(Vec::<Vec<f32>>::new());
    let strip_t = RwSignal::new(Vec::<usize>::new());
    let schedule = RwSignal::new(Vec::<f32>::new());
    let buckets = RwSignal::new(vec![f32::NAN; LOSS_BUCKETS]);
    let frames = RwSignal::new(Vec::<Vec<f32>>::new());
    let arrows = RwSignal::new(Vec::<Vec<f32>>::new());
    let frame_t = RwSignal::new(Vec::<usize>::new());
    let sample_quality = RwSignal::new(None::<f32>);
    let noise_quality = RwSignal::new(None::<f32>);
    let data_quality = RwSignal::new(None::<f32>);
    let sampled_at = RwSignal::new(None::<u64>);
    let sample_ms = RwSignal::new(None::<f32>);
    let sampling = RwSignal::new(None::<f32>);
    let training_error = RwSignal::new(None::<String>);
    let page_error = RwSignal::new(None::<String>);
    // The frame shown, and whether the visitor moved the scrubber (then new
    // samples keep the position; otherwise they show the finished samples).
    let shown = RwSignal::new(0usize);
    let scrubbed = RwSignal::new(false);
    let playing = RwSignal::new(None::<leptos::prelude::IntervalHandle>);

    // The settings: the last valid ones, and the fields as typed.
    let config = RwSignal::new(initial);
    let seed_text = RwSignal::new(texts.seed);
    let steps_text = RwSignal::new(texts.steps);
    let ddim_text = RwSignal::new(texts.ddim_steps);
    let eta_text = RwSignal::new(texts.eta);
    let width_text = RwSignal::new(texts.width);
    let layers_text = RwSignal::new(texts.layers);
    let lr_text = RwSignal::new(texts.learning_rate);
    let batch_text = RwSignal::new(texts.batch_size);
    // The drawing pad, and whether it is open (the data menu says "your own").
    let drawing = RwSignal::new(initial_drawing);
    let drawing_open = RwSignal::new(config.get_untracked().settings.data == DataChoice::Drawn);

    let seed_error = Signal::derive(move || validate::seed(&seed_text.get()).err());
    let steps_error = Signal::derive(move || validate::diffusion_steps(&steps_text.get()).err());
    let ddim_error = Signal::derive(move || {
        let steps = validate::diffusion_steps(&steps_text.get()).unwrap_or(config.get().settings.steps);
        validate::ddim_steps(&ddim_text.get(), steps).err()
    });
    let eta_error = Signal::derive(move || validate::eta(&eta_text.get()).err());
    let width_error = Signal::derive(move || validate::denoiser_width(&width_text.get()).err());
    let layers_error = Signal::derive(move || validate::denoiser_layers(&layers_text.get()).err());
    let lr_error = Signal::derive(move || validate::learning_rate(&lr_text.get()).err());
    let batch_error = Signal::derive(move || validate::batch_size(&batch_text.get()).err());

    let on_snapshot = move |s: Snapshot| {
        if s.fresh_run {
            history.set(History::new(HISTORY_CAPACITY));
            step_ms.set(None);
            sample_quality.set(None);
            sampled_at.set(None);
            params.set(s.integer(integers::PARAMS));
            noise_quality.set(s.metric(metrics::NOISE_QUALITY));
            data_quality.set(s.metric(metrics::DATA_QUALITY));
            if let Some(t) = s.tensor(tensors::DATA) {
                data.set(t.data.clone());
            }
            if let (Some(t), Some(ts)) = (s.tensor(tensors::STRIP), s.tensor(tensors::STRIP_T)) {
                strip.set(frames_of(&t.shape, &t.data));
                strip_t.set(ts.data.iter().map(|&v| v as usize).collect());
            }
            if let Some(t) = s.tensor(tensors::SCHEDULE) {
                schedule.set(t.data.clone());
            }
        }
        step.set(s.step);
        loss.set(s.loss());
        running.set(s.running);
        if let Some(series) = s.losses.first() {
            history.update(|h| {
                for &(x, y) in &series.new_points {
                    h.push(x as f64, f64::from(y));
                }
            });
        }
        if let Some(ms) = s.metric(metrics::STEP_MS) {
            step_ms.set(Some(ms));
        }
        if let Some(t) = s.tensor(tensors::LOSS_BY_T) {
            buckets.set(t.data.clone());
        }
        sampling.set(s.metric(metrics::SAMPLING));
        if let Some(q) = s.metric(metrics::SAMPLE_QUALITY) {
            sample_quality.set(Some(q));
            sample_ms.set(s.metric(metrics::SAMPLE_MS));
            sampled_at.set(s.integer(integers::SAMPLED_AT));
        }
        if let (Some(f), Some(a), Some(t)) = (
            s.tensor(tensors::FRAMES),
            s.tensor(tensors::ARROWS),
            s.tensor(tensors::FRAME_T),
        ) {
            let new_frames = frames_of(&f.shape, &f.data);
            let last = new_frames.len().saturating_sub(1);
            frames.set(new_frames);
            arrows.set(frames_of(&a.shape, &a.data));
            frame_t.set(t.data.iter().map(|&v| v as usize).collect());
            if scrubbed.get_untracked() {
                shown.update(|k| *k = (*k).min(last));
            } else if playing.with_untracked(Option::is_none) {
                shown.set(last);
            }
        }
        training_error.set(s.error);
    };

    let link = spawn_lab_worker::<DiffusionProtocol>(
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
    let stop_playing = move || {
        if let Some(handle) = playing.get_untracked() {
            handle.clear();
            playing.set(None);
        }
    };
    let sample_now = move |_| {
        page_error.set(None);
        link.command(&LabCommand::Sample);
    };
    let play = move |_| {
        stop_playing();
        let count = frames.with_untracked(Vec::len);
        if count < 2 {
            return;
        }
        shown.set(0);
        scrubbed.set(true);
        let tick = std::time::Duration::from_millis((PLAY_MS / count as u64).max(16));
        let handle = set_interval_with_handle(
            move || {
                let last = frames.with_untracked(Vec::len).saturating_sub(1);
                if shown.get_untracked() >= last {
                    if let Some(h) = playing.get_untracked() {
                        h.clear();
                    }
                    playing.set(None);
                } else {
                    shown.update(|k| *k += 1);
                }
            },
            tick,
        );
        if let Ok(handle) = handle {
            playing.set(Some(handle));
        }
    };
    on_cleanup(move || {
        if let Some(handle) = playing.try_get_untracked().flatten() {
            handle.clear();
        }
    });

    let banner = Signal::derive(move || page_error.get().or_else(|| training_error.get()));
    let loss_lines = Signal::derive(move || history.with(loss_series));
    let schedule_lines = Signal::derive(move || schedule.with(|t| schedule_series(t)));
    let frame_points = Signal::derive(move || frames.with(|f| f.get(shown.get()).cloned().unwrap_or_default()));
    // Where the model pushes each point: against the noise it sees.
    let frame_arrows = Signal::derive(move || {
        arrows.with(|a| {
            a.get(shown.get())
                .map(|eps| eps.iter().map(|v| -v).collect())
                .unwrap_or_default()
        })
    });
    let frame_count = Signal::derive(move || frames.with(Vec::len));
    let shown_t = Signal::derive(move || frame_t.with(|t| t.get(shown.get()).copied()));
    let steps_total = Signal::derive(move || config.get().settings.steps);
    let frame_label = Signal::derive(move || match shown_t.get() {
        None => "No samples yet".to_string(),
        Some(0) => format!("t = 0: the {SAMPLES} samples"),
        Some(t) if t == steps_total.get() => format!("t = {t}: pure noise, where sampling starts"),
        Some(t) => format!("t = {t} of {}", steps_total.get()),
    });
    let denoise_label = Signal::derive(move || {
        format!(
            "{}: {} points over the data (grey); arrows show where the model pushes each point",
            frame_label.get(),
            frame_points.with(|p| p.len() / 2)
        )
    });
    let quality_text = move || {
        let q = sample_quality.get()?;
        let (noise, perfect) = (noise_quality.get()?, data_quality.get()?);
        let at = sampled_at.get().unwrap_or(0);
        Some(format!(
            "Samples drawn at step {at}: {q:.3} from the data (sliced Wasserstein distance; lower is closer). \
             The Gaussian noise they start from scores {noise:.3}, and {SAMPLES} fresh data points score \
             {perfect:.3}: about what a perfect model scores with this many samples (a run can land a little \
             below it by chance)."
        ))
    };
    let lesson = move || {
        let q = sample_quality.get()?;
        let (noise, perfect) = (noise_quality.get()?, data_quality.get()?);
        let at = sampled_at.get().unwrap_or(0);
        Some(if at == 0 {
            "Before any training the network's noise guesses are random. Each reverse step divides by \
             \u{221a}(1 \u{2212} \u{3b2}\u{209c}) to undo the shrinking the forward process did, so without the right noise to \
             take out the points fly off the chart. Press Start and watch the samples find the data."
                .to_string()
        } else if q < perfect + MATCH_MARGIN * (noise - perfect) {
            format!(
                "After {at} steps the samples match the data: {q:.3} against noise's {noise:.3}. Every sample \
                 began as pure noise; {} small denoising steps carried it onto the shape. Scrub back to see how.",
                frame_count.get().saturating_sub(1)
            )
        } else {
            format!(
                "After {at} steps the samples are still finding the shape ({q:.3}; noise {noise:.3}, a perfect \
                 model about {perfect:.3}). Keep training."
            )
        })
    };

    let on_data = move |key: String| {
        let Some(choice) = DataChoice::from_key(&key) else {
            return;
        };
        if choice == DataChoice::Drawn {
            drawing_open.set(true);
            // A drawing big enough trains at once; otherwise the pad waits.
            if drawing.with_untracked(Vec::len) >= MIN_DRAWN_POINTS {
                set_hyper(Hyper::Drawn(drawing.get_untracked()));
            }
        } else {
            drawing_open.set(false);
            set_hyper(Hyper::Data(choice));
        }
    };
    let data_key = Signal::derive(move || {
        if drawing_open.get() {
            DataChoice::Drawn.key()
        } else {
            config.get().settings.data.key()
        }
    });
    let is_ddim = Signal::derive(move || config.get().settings.sampler == SamplerChoice::Ddim);

    let numeric_field = move |id: &'static str,
                              label: &'static str,
                              testid: &'static str,
                              text: RwSignal<String>,
                              error: Signal<Option<String>>,
                              hint: String,
                              commit: fn(&str, &DiffusionSettings) -> Option<Hyper>| {
        let on_commit = move |t: String| {
            if let Some(h) = commit(&t, &config.get_untracked().settings) {
                set_hyper(h);
            }
        };
        view! {
            <TextField
                id=id
                label=label
                testid=testid
                value=text
                error=error
                hint=hint
                inputmode="decimal"
                on_commit=on_commit
            />
        }
    };

    let strip_view = move || {
        let alpha_bar = schedule.get();
        let steps = alpha_bar.len() / 2;
        strip_t
            .get()
            .into_iter()
            .enumerate()
            .map(|(k, t)| {
                let points = Signal::derive(move || strip.with(|s| s.get(k).cloned().unwrap_or_default()));
                let signal = if t == 0 { 1.0 } else { alpha_bar.get(steps + t - 1).copied().unwrap_or(f32::NAN) };
                let caption = if t == 0 {
                    "x\u{2080}: the data".to_string()
                } else {
                    format!("t = {t}: \u{221a}\u{101} = {:.2}", signal.sqrt())
                };
                let label = format!("The data noised to step {t}");
                view! {
                    <figure class="strip-frame">
                        <PointCloud points=points extent=EXTENT testid="strip-frame" label=label color=[0, 158, 115] />
                        <figcaption>{caption}</figcaption>
                    </figure>
                }
            })
            .collect_view()
    };

    let bars = move || {
        let steps = steps_total.get();
        buckets.with(|b| {
            bucket_bars(b, steps)
                .into_iter()
                .map(|(height, label, value)| {
                    let bar_height = format!("{:.1}%", height * 100.0);
                    let title = if value.is_finite() {
                        format!("{label}: {value:.3}")
                    } else {
                        format!("{label}: no examples yet")
                    };
                    view! {
                        <div class="bucket" title=title.clone() aria-label=title>
                            <span class="bucket-bar" style:height=bar_height></span>
                            <span class="bucket-label">{label}</span>
                        </div>
                    }
                })
                .collect_view()
        })
    };
    let bucket_values = move || {
        buckets.with(|b| {
            b.iter()
                .map(|v| if v.is_finite() { format!("{v:.4}") } else { "nan".into() })
                .collect::<Vec<_>>()
                .join(",")
        })
    };

    view! {
        <article class="page lab" data-testid="diffusion">
            <header class="lab-header">
                <p class="eyebrow">"Lab \u{b7} live"</p>
                <h1>"Diffusion: noise in, data out"</h1>
                <p class="lede">
                    "First turn the data into noise, a little at a time. Then teach a network to guess, at any \
                     step, the noise that was added. Run that guess backwards from pure noise and new data \
                     appears. Train a DDPM here on a 2-D shape (or one you draw) and scrub through every \
                     denoising step."
                </p>
            </header>
            <ErrorBanner error=banner />
            <div class="lab-layout diffusion-layout">
                <section class="panel controls-panel" aria-labelledby="controls-title">
                    <h2 id="controls-title">"Train"</h2>
                    <LabTrainControls send=send running=running step=step loss=loss seed_text=seed_text seed_error=seed_error seed=current_seed set_seed=set_seed page_error=page_error />
                    <WeightsControls on_export=move |_| send(Command::ExportWeights) on_import=import_weights />
                    <SpeedField speed=Signal::derive(move || config.get().speed) set_speed=set_speed />
                    <h2>"Data and noise"</h2>
                    <div class="field-grid">
                        <SelectField
                            id="data"
                            label="Data"
                            testid="data-select"
                            options=DataChoice::options()
                            value=data_key
                            on_change=on_data
                        />
                        <SelectField
                            id="schedule"
                            label="Schedule"
                            testid="schedule-select"
                            options=ScheduleChoice::options()
                            value=Signal::derive(move || config.get().settings.schedule.key())
                            on_change=move |key: String| {
                                if let Some(v) = ScheduleChoice::from_key(&key) {
                                    set_hyper(Hyper::Schedule(v));
                                }
                            }
                        />
                        {numeric_field(
                            "steps",
                            "Timesteps T",
                            "steps-input",
                            steps_text,
                            steps_error,
                            validate::range_hint(limits::DIFFUSION_STEPS),
                            |t, s| validate::diffusion_steps(t).ok().filter(|v| *v != s.steps && *v >= s.ddim_steps).map(Hyper::Steps),
                        )}
                        <SelectField
                            id="sampler"
                            label="Sampler"
                            testid="sampler-select"
                            options=SamplerChoice::options()
                            value=Signal::derive(move || config.get().settings.sampler.key())
                            on_change=move |key: String| {
                                if let Some(v) = SamplerChoice::from_key(&key) {
                                    set_hyper(Hyper::Sampler(v));
                                }
                            }
                        />
                        <Show when=move || is_ddim.get()>
                            {numeric_field(
                                "ddim-steps",
                                "DDIM steps",
                                "ddim-steps",
                                ddim_text,
                                ddim_error,
                                "2 to T".into(),
                                |t, s| validate::ddim_steps(t, s.steps).ok().filter(|v| *v != s.ddim_steps).map(Hyper::DdimSteps),
                            )}
                            {numeric_field(
                                "eta",
                                "Eta",
                                "eta-input",
                                eta_text,
                                eta_error,
                                "0 (deterministic) to 1 (as noisy as DDPM)".into(),
                                |t, s| validate::eta(t).ok().filter(|v| *v != s.eta).map(Hyper::Eta),
                            )}
                        </Show>
                    </div>
                    <h2>"Denoiser"</h2>
                    <div class="field-grid">
                        {numeric_field(
                            "width",
                            "Width",
                            "width-input",
                            width_text,
                            width_error,
                            validate::range_hint(limits::DENOISER_WIDTH),
                            |t, s| validate::denoiser_width(t).ok().filter(|v| *v != s.width).map(Hyper::Width),
                        )}
                        {numeric_field(
                            "layers",
                            "Hidden layers",
                            "layers-input",
                            layers_text,
                            layers_error,
                            validate::range_hint(limits::DENOISER_LAYERS),
                            |t, s| validate::denoiser_layers(t).ok().filter(|v| *v != s.layers).map(Hyper::Layers),
                        )}
                        <SelectField
                            id="activation"
                            label="Activation"
                            testid="activation-select"
                            options=ActivationChoice::options()
                            value=Signal::derive(move || config.get().settings.activation.key())
                            on_change=move |key: String| {
                                if let Some(v) = ActivationChoice::from_key(&key) {
                                    set_hyper(Hyper::Activation(v));
                                }
                            }
                        />
                        <SelectField
                            id="optimizer"
                            label="Optimizer"
                            testid="optimizer-select"
                            options=OptimizerChoice::options()
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
                            hint="Greater than 0; 0.001 to 0.003 works well with Adam"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::learning_rate(&text) {
                                    if v != config.get_untracked().settings.learning_rate {
                                        set_hyper(Hyper::LearningRate(v));
                                    }
                                }
                            }
                        />
                        {numeric_field(
                            "batch",
                            "Batch size",
                            "batch-input",
                            batch_text,
                            batch_error,
                            validate::range_hint(limits::BATCH_SIZE),
                            |t, s| validate::batch_size(t).ok().filter(|v| *v != s.batch_size).map(Hyper::BatchSize),
                        )}
                    </div>
                    <p class="note">
                        "The data, schedule, T and the denoiser's size start a new run; the learning rate, batch \
                         size, optimizer, sampler and speed change on the fly. The denoiser is an MLP that sees \
                         the point and a sinusoidal embedding of t."
                    </p>
                </section>
                <section class="panel samples-panel" aria-labelledby="samples-title">
                    <h2 id="samples-title">"Noise to data: the reverse process"</h2>
                    <div class="sample-actions">
                        <button type="button" class="button primary" data-testid="sample-button" on:click=sample_now>
                            "Draw new samples"
                        </button>
                        <button type="button" class="button" data-testid="play-button" on:click=play disabled=move || frame_count.get() < 2>
                            "\u{25b6} Play from noise"
                        </button>
                        <span class="note" aria-live="polite">
                            {move || sampling.get().map(|p| format!("Sampling\u{2026} {:.0}%", p * 100.0))}
                        </span>
                    </div>
                    <PointCloud
                        points=frame_points
                        reference=data
                        arrows=frame_arrows
                        arrow_scale=0.15
                        extent=EXTENT
                        testid="denoise-steps"
                        label=denoise_label
                    />
                    <div class="scrubber">
                        <label for="denoise-scrubber">{frame_label}</label>
                        <input
                            id="denoise-scrubber"
                            type="range"
                            data-testid="denoise-scrubber"
                            min="0"
                            max=move || frame_count.get().saturating_sub(1).to_string()
                            step="1"
                            prop:value=move || shown.get().to_string()
                            data-t=move || shown_t.get().map(|t| t.to_string()).unwrap_or_default()
                            on:input=move |ev| {
                                stop_playing();
                                scrubbed.set(true);
                                if let Ok(k) = event_target_value(&ev).parse::<usize>() {
                                    shown.set(k);
                                }
                            }
                        />
                        <div class="scrubber-ends"><span>"noise"</span><span>"samples"</span></div>
                    </div>
                    <div class="stats-row">
                        <Stat
                            label="Sample quality"
                            testid="sample-quality"
                            value=Signal::derive(move || sample_quality.get().map(|q| q.to_string()).unwrap_or_default())
                            display=Signal::derive(move || sample_quality.get().map(|q| format!("{q:.3}")).unwrap_or_else(|| "\u{2013}".into()))
                        />
                        <Stat
                            label="Noise scores"
                            testid="noise-quality"
                            value=Signal::derive(move || noise_quality.get().map(|q| q.to_string()).unwrap_or_default())
                            display=Signal::derive(move || noise_quality.get().map(|q| format!("{q:.3}")).unwrap_or_else(|| "\u{2013}".into()))
                        />
                        <Stat
                            label="Sampling took"
                            testid="sample-ms"
                            value=Signal::derive(move || sample_ms.get().map(|m| m.to_string()).unwrap_or_default())
                            display=Signal::derive(move || sample_ms.get().map(|m| format!("{m:.0} ms")).unwrap_or_else(|| "\u{2013}".into()))
                        />
                    </div>
                    <p class="lesson" data-testid="lesson">{lesson}</p>
                    <p class="note">{quality_text}</p>
                    <p class="explain">
                        "Each step takes x\u{209c} to x\u{209c}\u{208b}\u{2081} = (x\u{209c} \u{2212} \u{3b2}\u{209c} / \u{221a}(1 \u{2212} \u{101}\u{209c}) \u{b7} \u{3b5}\u{302}) / \u{221a}(1 \u{2212} \u{3b2}\u{209c}) + \u{3c3}\u{209c} z: \
                         remove a little of the noise the network guesses (\u{3b5}\u{302}, the arrows point against \
                         it), then add back a little fresh noise z. DDIM jumps several steps at once and, with \
                         eta 0, adds none."
                    </p>
                </section>
                <section class="panel forward-panel" aria-labelledby="forward-title">
                    <h2 id="forward-title">"Data to noise: the forward process"</h2>
                    <div class="noise-strip" data-testid="noise-strip">{strip_view}</div>
                    <p class="explain">
                        "x\u{209c} = \u{221a}\u{101}\u{209c} x\u{2080} + \u{221a}(1 \u{2212} \u{101}\u{209c}) \u{3b5}, with \u{3b5} standard normal noise: \
                         any step in one jump. \u{101}\u{209c} is the share of the data's signal left after t \
                         steps; by t = T almost none is, and every shape looks alike."
                    </p>
                    <LineChart
                        series=schedule_lines
                        testid="schedule-chart"
                        title="The noise schedule"
                        x_label="timestep t"
                        y_label="value"
                    />
                </section>
                <section class="panel training-panel" aria-labelledby="training-title">
                    <h2 id="training-title">"What it learns"</h2>
                    <div class="stats-row">
                        <Stat
                            label="Parameters"
                            testid="params"
                            value=Signal::derive(move || params.get().map(|p| p.to_string()).unwrap_or_default())
                            display=Signal::derive(move || params.get().map(|p| format_number(p as f64)).unwrap_or_else(|| "\u{2013}".into()))
                        />
                        <Stat
                            label="Time per step"
                            testid="step-ms"
                            value=Signal::derive(move || step_ms.get().map(|m| m.to_string()).unwrap_or_default())
                            display=Signal::derive(move || step_ms.get().map(|m| format!("{m:.2} ms")).unwrap_or_else(|| "\u{2013}".into()))
                        />
                    </div>
                    <p class="explain">
                        "Training picks a data point x\u{2080}, a step t and noise \u{3b5}, makes x\u{209c} in one jump, \
                         and asks the network for \u{3b5}: the loss is the squared error of its guess."
                    </p>
                    <LineChart
                        series=loss_lines
                        testid="loss-chart"
                        title="Training loss (noise-guess error) by step"
                        empty_text="Press Start to train"
                        x_label="step"
                        y_label="loss"
                    />
                    <h3>"The error by timestep"</h3>
                    <div class="buckets" data-testid="loss-by-t" data-values=bucket_values role="img" aria-label="The recent noise-guess error in ten bands of timesteps">
                        {bars}
                    </div>
                    <p class="note">
                        "Late steps are nearly pure noise, so the noise is easy to guess; early steps hide a little \
                         noise in the data, and the network must know the shape to find it."
                    </p>
                </section>
                <Show when=move || drawing_open.get()>
                    <PointsPanel
                        drawing=drawing
                        on_use=move |points| set_hyper(Hyper::Drawn(points))
                        page_error=page_error
                        note="Click or drag to draw the shape the model should learn."
                    />
                </Show>
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
    fn the_query_round_trips_a_config_with_a_drawing() {
        let drawn: Vec<[f32; 2]> = (0..25).map(|i| [i as f32 * 0.2 - 2.5, 1.0 - i as f32 * 0.1]).collect();
        let config = DiffusionConfig {
            settings: DiffusionSettings {
                data: DataChoice::Drawn,
                drawn: decode_points(&encode_points(&drawn)).unwrap(),
                schedule: ScheduleChoice::Cosine,
                steps: 200,
                sampler: SamplerChoice::Ddim,
                ddim_steps: 25,
                eta: 0.5,
                width: 96,
                layers: 2,
                activation: ActivationChoice::Gelu,
                optimizer: OptimizerChoice::Sgd,
                learning_rate: 0.01,
                batch_size: 64,
            },
            seed: 42,
            speed: SpeedChoice::Slow,
        };
        let query = url_state::encode_query(&config_to_query(&config));
        let (parsed, texts) = config_from_query(&pairs(&query));
        assert_eq!(parsed, config);
        assert_eq!(texts, FieldTexts::of(&config));
        // Points survive the URL within its grid.
        for (a, b) in drawn.iter().zip(&parsed.settings.drawn) {
            assert!((a[0] - b[0]).abs() < 2e-3 && (a[1] - b[1]).abs() < 2e-3, "{a:?} {b:?}");
        }
    }

    #[test]
    fn bad_query_values_fall_back_but_stay_in_their_fields() {
        let (config, texts) = config_from_query(&pairs("T=5&width=9999&eta=2&ddim=0&data=nope"));
        assert_eq!(config, default_config());
        assert_eq!((texts.steps.as_str(), texts.width.as_str(), texts.eta.as_str()), ("5", "9999", "2"));
        // Too few drawn points (or garbage) are no dataset: the ring.
        let (few, _) = config_from_query(&pairs(&format!("data=drawn&pts={}", encode_points(&[[0.0, 0.0]; 3]))));
        assert_eq!(few.settings.data, DataChoice::Ring);
        assert_eq!(decode_points("AB!"), None);
        assert_eq!(decode_points("A#AA"), None);
        // A small T pulls DDIM's default steps down with it.
        let (short, _) = config_from_query(&pairs("T=10"));
        assert_eq!((short.settings.steps, short.settings.ddim_steps), (10, 10));
    }

    #[test]
    fn the_schedule_and_the_buckets_become_charts() {
        let lines = schedule_series(&[0.1, 0.2, 0.9, 0.72]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].points, vec![(1.0, 0.1f32 as f64), (2.0, 0.2f32 as f64)]);
        assert_eq!(lines[1].points[1], (2.0, 0.72f32 as f64));
        let bars = bucket_bars(&[0.5, 1.0, f32::NAN, 0.25], 100);
        assert_eq!(bars[1].0, 1.0);
        assert_eq!(bars[0].0, 0.5);
        assert_eq!(bars[2].0, 0.0);
        assert_eq!(bars[0].1, "t 1\u{2013}25");
        assert_eq!(bars[3].1, "t 76\u{2013}100");
        assert_eq!(frames_of(&[2, 1, 2], &[1.0, 2.0, 3.0, 4.0]), vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        assert!(frames_of(&[2, 2, 2], &[1.0]).is_empty());
    }
}
