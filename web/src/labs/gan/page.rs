//! `/gan`: a generator and a discriminator play their game live on a 2-D
//! distribution. The visitor sees the fakes over the discriminator's view of
//! the plane, the arrows along which it pushes them, where the generator
//! sends a grid of noise, both losses, and which modes the fakes cover.

use leptos::prelude::*;

use super::protocol::{
    integers, metrics, tensors, ActivationChoice, Command as LabCommand, DataChoice, GanProtocol, GanSettings,
    Hyper, LossChoice, Net, D_WINS_STEPS, DEFAULT_SEED, HEATMAP_SIZE, MEASURED,
};
use crate::components::{
    append_named, named_loss_series, ErrorBanner, Heatmap, History, LineChart, PointCloud, PointsPanel, SelectField, Stat, TextField,
    WeightsControls,
};
use crate::draw::{format_number, Rgb, RgbaImage};
use crate::pages::lab_controls::{spawn_lab_worker, LabTrainControls, SpeedField};
use crate::url_state::{self, decode_points, encode_points};
use crate::validate;
use crate::worker::protocol::{Command, OptimizerChoice, Run, Snapshot, SpeedChoice};
use deepplay_core::data::points::{EXTENT, MIN_DRAWN_POINTS};
use deepplay_core::limits;

/// A GAN run: its settings, seed and speed.
pub type GanConfig = Run<GanSettings>;

fn default_config() -> GanConfig {
    Run {
        settings: GanSettings::default(),
        seed: DEFAULT_SEED,
        speed: SpeedChoice::Full,
    }
}

/// Points kept of each loss curve.
const HISTORY_CAPACITY: usize = 600;

/// Before this many steps a generator that covers few modes is still
/// spreading out, not collapsed.
const SPREAD_STEPS: u64 = 500;

/// The fakes, and the heatmap's ends: where the discriminator says "fake"
/// (0) and "real" (1). Light tints, so that the points on top stay legible.
const FAKE_COLOR: Rgb = [55, 48, 163];
const SAYS_FAKE: Rgb = [214, 196, 232];
const SAYS_REAL: Rgb = [190, 228, 208];
const UNSURE: Rgb = [250, 250, 250];

/// What a numeric field's valid text changes, if anything.
type Commit = Box<dyn Fn(&str, &GanSettings) -> Option<Hyper> + Send + Sync>;

/// The text of each field, as typed (possibly invalid).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTexts {
    pub seed: String,
    pub noise_dim: String,
    pub d_steps: String,
    pub batch_size: String,
    pub gradient_penalty: String,
    /// Width, layers and learning rate: generator, then discriminator.
    pub width: [String; 2],
    pub layers: [String; 2],
    pub learning_rate: [String; 2],
}

impl FieldTexts {
    pub fn of(config: &GanConfig) -> Self {
        let s = &config.settings;
        let both = |f: fn(&super::protocol::NetSettings) -> String| [f(&s.generator), f(&s.discriminator)];
        Self {
            seed: config.seed.to_string(),
            noise_dim: s.noise_dim.to_string(),
            d_steps: s.d_steps.to_string(),
            batch_size: s.batch_size.to_string(),
            gradient_penalty: s.gradient_penalty.to_string(),
            width: both(|n| n.width.to_string()),
            layers: both(|n| n.layers.to_string()),
            learning_rate: both(|n| n.learning_rate.to_string()),
        }
    }
}

fn index(net: Net) -> usize {
    match net {
        Net::Generator => 0,
        Net::Discriminator => 1,
    }
}

/// The URL keys of a network's fields: `g...` and `d...`.
fn key(net: Net, field: &'static str) -> &'static str {
    match (net, field) {
        (Net::Generator, "w") => "gw",
        (Net::Generator, "l") => "gl",
        (Net::Generator, "act") => "gact",
        (Net::Generator, "opt") => "gopt",
        (Net::Generator, _) => "glr",
        (Net::Discriminator, "w") => "dw",
        (Net::Discriminator, "l") => "dl",
        (Net::Discriminator, "act") => "dact",
        (Net::Discriminator, "opt") => "dopt",
        (Net::Discriminator, _) => "dlr",
    }
}

/// Reads a config from URL query pairs. Invalid values fall back to the
/// defaults; the field texts keep what the URL said, so that the message
/// shows next to its field.
pub fn config_from_query(pairs: &[(String, String)]) -> (GanConfig, FieldTexts) {
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
    if s.data == DataChoice::Drawn && s.drawn.len() < MIN_DRAWN_POINTS {
        s.data = DataChoice::Ring;
    }
    if let Some(v) = get("loss").and_then(LossChoice::from_key) {
        s.loss = v;
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
    if let Some(v) = read("z", &mut texts.noise_dim).and_then(|t| validate::integer_in(t, limits::GAN_NOISE_DIM).ok()) {
        s.noise_dim = v;
    }
    if let Some(v) = read("k", &mut texts.d_steps).and_then(|t| validate::integer_in(t, limits::GAN_D_STEPS).ok()) {
        s.d_steps = v;
    }
    if let Some(v) = read("batch", &mut texts.batch_size).and_then(|t| validate::batch_size(t).ok()) {
        s.batch_size = v;
    }
    if let Some(v) = read("gp", &mut texts.gradient_penalty).and_then(|t| validate::float_in(t, limits::GRADIENT_PENALTY).ok())
    {
        s.gradient_penalty = v;
    }
    for net in [Net::Generator, Net::Discriminator] {
        let i = index(net);
        let n = match net {
            Net::Generator => &mut s.generator,
            Net::Discriminator => &mut s.discriminator,
        };
        if let Some(v) = get(key(net, "act")).and_then(ActivationChoice::from_key) {
            n.activation = v;
        }
        if let Some(v) = get(key(net, "opt")).and_then(OptimizerChoice::from_key) {
            n.optimizer = v;
        }
        if let Some(v) = read(key(net, "w"), &mut texts.width[i]).and_then(|t| validate::integer_in(t, limits::GAN_WIDTH).ok())
        {
            n.width = v;
        }
        if let Some(v) = read(key(net, "l"), &mut texts.layers[i]).and_then(|t| validate::integer_in(t, limits::GAN_LAYERS).ok())
        {
            n.layers = v;
        }
        if let Some(v) = read(key(net, "lr"), &mut texts.learning_rate[i]).and_then(|t| validate::learning_rate(t).ok()) {
            n.learning_rate = v;
        }
    }
    (config, texts)
}

/// The URL query that reproduces `config`.
pub fn config_to_query(config: &GanConfig) -> Vec<(&'static str, String)> {
    let s = &config.settings;
    let mut query = vec![("data", s.data.key().to_string())];
    if s.data == DataChoice::Drawn {
        query.push(("pts", encode_points(&s.drawn)));
    }
    query.extend([
        ("loss", s.loss.key().to_string()),
        ("z", s.noise_dim.to_string()),
        ("k", s.d_steps.to_string()),
        ("batch", s.batch_size.to_string()),
        ("gp", s.gradient_penalty.to_string()),
    ]);
    for net in [Net::Generator, Net::Discriminator] {
        let n = s.net(net);
        query.extend([
            (key(net, "w"), n.width.to_string()),
            (key(net, "l"), n.layers.to_string()),
            (key(net, "act"), n.activation.key().to_string()),
            (key(net, "opt"), n.optimizer.key().to_string()),
            (key(net, "lr"), n.learning_rate.to_string()),
        ]);
    }
    query.extend([
        ("seed", config.seed.to_string()),
        ("speed", config.speed.key().to_string()),
    ]);
    query
}

fn mix(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    core::array::from_fn(|i| (f32::from(a[i]) + (f32::from(b[i]) - f32::from(a[i])) * t).round() as u8)
}

/// The discriminator's view as an image: "fake" purple through white
/// (unsure) to "real" green. `values` are `[n, n]` in [0, 1], row 0 at the top.
pub fn realness_image(values: &[f32], n: usize) -> Option<RgbaImage> {
    if n == 0 || values.len() != n * n {
        return None;
    }
    let mut image = RgbaImage::new(n as u32, n as u32);
    for (px, &v) in image.pixels.chunks_exact_mut(4).zip(values) {
        let v = if v.is_finite() { v } else { 0.5 };
        let rgb = if v < 0.5 {
            mix(SAYS_FAKE, UNSURE, 2.0 * v)
        } else {
            mix(UNSURE, SAYS_REAL, 2.0 * v - 1.0)
        };
        px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
    }
    Some(image)
}

/// The manifold's grid lines: each row, then each column, of a `[rows,
/// cols, 2]` grid of points (a single row for 1-D noise).
pub fn grid_lines(shape: &[usize], points: &[f32]) -> Vec<Vec<f32>> {
    let [rows, cols, 2] = shape[..] else {
        return Vec::new();
    };
    if points.len() != rows * cols * 2 {
        return Vec::new();
    }
    let at = |r: usize, c: usize| [points[2 * (r * cols + c)], points[2 * (r * cols + c) + 1]];
    let mut lines: Vec<Vec<f32>> = (0..rows).map(|r| (0..cols).flat_map(|c| at(r, c)).collect()).collect();
    if rows > 1 {
        lines.extend((0..cols).map(|c| (0..rows).flat_map(|r| at(r, c)).collect()));
    }
    lines
}

/// What the page says about mode coverage, and whether it names a
/// collapse: `None` when there are no modes. One thin mode comes and goes
/// as the two networks trade moves; a quarter of the modes or more lost is
/// the generator collapsing onto the rest.
pub fn coverage_message(covered: Option<u64>, modes: usize, step: u64) -> Option<(bool, String)> {
    let covered = covered? as usize;
    if modes == 0 {
        return None;
    }
    let collapsed = 4 * (modes - covered.min(modes)) >= modes;
    Some(if covered >= modes {
        (false, format!("All {modes} modes covered."))
    } else if step < SPREAD_STEPS {
        (
            false,
            format!("{covered} of {modes} modes covered: the generator is still spreading out."),
        )
    } else if !collapsed {
        (
            false,
            format!(
                "{covered} of {modes} modes covered: the fakes under-represent the others for now, as the two \
                 networks trade moves."
            ),
        )
    } else {
        (
            true,
            format!(
                "Mode collapse: the fakes cover {covered} of {modes} modes. The generator found a few places the \
                 discriminator accepts and piles its samples there; the discriminator will catch on and push them \
                 elsewhere, and the game may or may not spread out again. More discriminator steps, the \
                 Wasserstein loss or a lower generator learning rate usually help."
            ),
        )
    })
}

#[component]
pub fn GanPage() -> impl IntoView {
    let (initial, texts) = config_from_query(&url_state::read());
    let initial_drawing = initial.settings.drawn.clone();

    // What the worker reports.
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let histories = RwSignal::new(Vec::<(String, History)>::new());
    let params = RwSignal::new(None::<(u64, u64)>);
    let step_ms = RwSignal::new(None::<f32>);
    let data = RwSignal::new(Vec::<f32>::new());
    let modes = RwSignal::new(0usize);
    let samples = RwSignal::new(Vec::<f32>::new());
    let push = RwSignal::new(Vec::<f32>::new());
    let heatmap = RwSignal::new(Vec::<f32>::new());
    let manifold = RwSignal::new(Vec::<f32>::new());
    let manifold_lines = RwSignal::new(Vec::<Vec<f32>>::new());
    let sample_quality = RwSignal::new(None::<f32>);
    let gaussian_quality = RwSignal::new(None::<f32>);
    let data_quality = RwSignal::new(None::<f32>);
    let modes_covered = RwSignal::new(None::<u64>);
    let off_mode = RwSignal::new(None::<f32>);
    let scores = RwSignal::new(None::<(f32, f32)>);
    let penalty = RwSignal::new(None::<f32>);
    let updates = RwSignal::new((0u64, 0u64));
    let d_wins_for = RwSignal::new(0u64);
    let training_error = RwSignal::new(None::<String>);
    let page_error = RwSignal::new(None::<String>);

    // The settings: the last valid ones, and the fields as typed.
    let config = RwSignal::new(initial);
    let seed_text = RwSignal::new(texts.seed);
    let noise_text = RwSignal::new(texts.noise_dim);
    let k_text = RwSignal::new(texts.d_steps);
    let batch_text = RwSignal::new(texts.batch_size);
    let gp_text = RwSignal::new(texts.gradient_penalty);
    let width_text = texts.width.map(RwSignal::new);
    let layers_text = texts.layers.map(RwSignal::new);
    let lr_text = texts.learning_rate.map(RwSignal::new);
    let drawing = RwSignal::new(initial_drawing);
    let drawing_open = RwSignal::new(config.get_untracked().settings.data == DataChoice::Drawn);

    let seed_error = Signal::derive(move || validate::seed(&seed_text.get()).err());

    let on_snapshot = move |s: Snapshot| {
        if s.fresh_run {
            histories.set(Vec::new());
            step_ms.set(None);
            scores.set(None);
            penalty.set(None);
            modes_covered.set(None);
            off_mode.set(None);
            manifold.set(Vec::new());
            manifold_lines.set(Vec::new());
            gaussian_quality.set(s.metric(metrics::GAUSSIAN_QUALITY));
            data_quality.set(s.metric(metrics::DATA_QUALITY));
            params.set(
                s.integer(integers::GENERATOR_PARAMS)
                    .zip(s.integer(integers::DISCRIMINATOR_PARAMS)),
            );
            if let Some(t) = s.tensor(tensors::DATA) {
                data.set(t.data.clone());
            }
            modes.set(s.tensor(tensors::MODES).map_or(0, |t| t.shape[0]));
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
        if let (Some(real), Some(fake)) = (s.metric(metrics::REAL_SCORE), s.metric(metrics::FAKE_SCORE)) {
            scores.set(Some((real, fake)));
        }
        penalty.set(s.metric(metrics::PENALTY));
        updates.set((
            s.integer(integers::D_UPDATES).unwrap_or(0),
            s.integer(integers::G_UPDATES).unwrap_or(0),
        ));
        d_wins_for.set(s.integer(integers::D_WINS_FOR).unwrap_or(0));
        if let Some(t) = s.tensor(tensors::SAMPLES) {
            samples.set(t.data.clone());
            push.set(s.tensor(tensors::PUSH).map(|p| p.data.clone()).unwrap_or_default());
            sample_quality.set(s.metric(metrics::SAMPLE_QUALITY));
            modes_covered.set(s.integer(integers::MODES_COVERED));
            off_mode.set(s.metric(metrics::OFF_MODE));
        }
        if let Some(t) = s.tensor(tensors::HEATMAP) {
            heatmap.set(t.data.clone());
        }
        if let Some(t) = s.tensor(tensors::MANIFOLD) {
            manifold_lines.set(grid_lines(&t.shape, &t.data));
            manifold.set(t.data.clone());
        }
        training_error.set(s.error);
    };

    let link = spawn_lab_worker::<GanProtocol>(on_snapshot, |()| {}, move || config.get_untracked(), running, page_error);
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
    let step_one = move |command: LabCommand| {
        page_error.set(None);
        link.command(&command);
    };

    let banner = Signal::derive(move || page_error.get().or_else(|| training_error.get()));
    let loss_lines = Signal::derive(move || histories.with(|h| named_loss_series(h)));
    let heatmap_image = Signal::derive(move || heatmap.with(|h| realness_image(h, HEATMAP_SIZE)));
    let loss_kind = Signal::derive(move || config.get().settings.loss);
    let heatmap_label = Signal::derive(move || match loss_kind.get() {
        LossChoice::NonSaturating | LossChoice::Minimax => {
            "The discriminator's probability that a point is real: green real, purple fake, white unsure"
        }
        LossChoice::LeastSquares => "The discriminator's score, clamped to 0 (fake, purple) to 1 (real, green)",
        LossChoice::Wasserstein => "The critic's score over the plot, lowest purple to highest green",
    });
    let samples_label = Signal::derive(move || {
        format!(
            "{} generated points (dark blue) over {} real ones (grey); orange arrows show where the \
             discriminator pushes each fake",
            samples.with(|p| p.len() / 2),
            data.with(|p| p.len() / 2)
        )
    });
    let coverage = Signal::derive(move || coverage_message(modes_covered.get(), modes.get(), step.get()));
    let lesson = move || {
        let q = sample_quality.get()?;
        let (gaussian, perfect) = (gaussian_quality.get()?, data_quality.get()?);
        let (d, g) = updates.get();
        Some(if d == 0 && g == 0 {
            format!(
                "Before any training the generator squeezes its noise into a blob ({q:.3} from the data; a \
                 single Gaussian fitted to the data scores {gaussian:.3}, and fresh data {perfect:.3}). The \
                 discriminator has not learned anything either: its heatmap is a guess. Press Start, or step \
                 each network by hand."
            )
        } else if q < 0.5 * gaussian && !coverage.get().is_some_and(|(collapsed, _)| collapsed) {
            format!(
                "The fakes now sit {q:.3} from the data, well below the {gaussian:.3} of the best single Gaussian \
                 (fresh data scores {perfect:.3}). Neither network was shown the answer: the generator only ever \
                 saw the discriminator's gradient, the arrows."
            )
        } else {
            format!(
                "The fakes are {q:.3} from the data (a fitted Gaussian {gaussian:.3}, fresh data {perfect:.3}). \
                 Watch the arrows: the generator moves its fakes uphill on the discriminator's map, and the map \
                 moves in answer."
            )
        })
    };
    let d_wins_warning = move || {
        let n = d_wins_for.get();
        (n >= D_WINS_STEPS).then(|| {
            format!(
                "The discriminator has won: its loss has stayed near zero for {n} steps, so it is sure of every \
                 point and the generator's gradient vanishes. Lower the discriminator's learning rate or its \
                 steps per generator step, use the non-saturating or Wasserstein loss, or press Reset."
            )
        })
    };

    let on_data = move |key: String| {
        let Some(choice) = DataChoice::from_key(&key) else {
            return;
        };
        if choice == DataChoice::Drawn {
            drawing_open.set(true);
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

    // A numeric field whose valid, changed value becomes a hyperparameter.
    let numeric_field = move |id: &'static str,
                              label: &'static str,
                              testid: &'static str,
                              text: RwSignal<String>,
                              check: fn(&str) -> Option<String>,
                              hint: String,
                              commit: Commit| {
        let error = Signal::derive(move || check(&text.get()));
        let on_commit = move |t: String| {
            if let Some(h) = commit(&t, &config.get_untracked().settings) {
                set_hyper(h);
            }
        };
        view! {
            <TextField id=id label=label testid=testid value=text error=error hint=hint on_commit=on_commit />
        }
    };

    let net_fields = move |net: Net| {
        let i = index(net);
        let (prefix, id_prefix) = match net {
            Net::Generator => ("Generator", "g"),
            Net::Discriminator => ("Discriminator", "d"),
        };
        let ids: [&'static str; 5] = match net {
            Net::Generator => ["g-width", "g-layers", "g-act", "g-opt", "g-lr"],
            Net::Discriminator => ["d-width", "d-layers", "d-act", "d-opt", "d-lr"],
        };
        let testids: [&'static str; 5] = match net {
            Net::Generator => ["g-width-input", "g-layers-input", "g-activation-select", "g-optimizer-select", "g-lr-input"],
            Net::Discriminator => ["d-width-input", "d-layers-input", "d-activation-select", "d-optimizer-select", "d-lr-input"],
        };
        let _ = id_prefix;
        view! {
            <h3>{prefix}</h3>
            <div class="field-grid">
                {numeric_field(
                    ids[0],
                    "Width",
                    testids[0],
                    width_text[i],
                    |t| validate::integer_in(t, limits::GAN_WIDTH).err(),
                    validate::range_hint(limits::GAN_WIDTH),
                    Box::new(move |t, s| {
                        validate::integer_in(t, limits::GAN_WIDTH)
                            .ok()
                            .filter(|v| *v != s.net(net).width)
                            .map(|v| Hyper::Width(net, v))
                    }),
                )}
                {numeric_field(
                    ids[1],
                    "Hidden layers",
                    testids[1],
                    layers_text[i],
                    |t| validate::integer_in(t, limits::GAN_LAYERS).err(),
                    validate::range_hint(limits::GAN_LAYERS),
                    Box::new(move |t, s| {
                        validate::integer_in(t, limits::GAN_LAYERS)
                            .ok()
                            .filter(|v| *v != s.net(net).layers)
                            .map(|v| Hyper::Layers(net, v))
                    }),
                )}
                <SelectField
                    id=ids[2]
                    label="Activation"
                    testid=testids[2]
                    options=ActivationChoice::options()
                    value=Signal::derive(move || config.get().settings.net(net).activation.key())
                    on_change=move |key: String| {
                        if let Some(v) = ActivationChoice::from_key(&key) {
                            set_hyper(Hyper::Activation(net, v));
                        }
                    }
                />
                <SelectField
                    id=ids[3]
                    label="Optimizer"
                    testid=testids[3]
                    options=OptimizerChoice::options()
                    value=Signal::derive(move || config.get().settings.net(net).optimizer.key())
                    on_change=move |key: String| {
                        if let Some(v) = OptimizerChoice::from_key(&key) {
                            set_hyper(Hyper::Optimizer(net, v));
                        }
                    }
                />
                {numeric_field(
                    ids[4],
                    "Learning rate",
                    testids[4],
                    lr_text[i],
                    |t| validate::learning_rate(t).err(),
                    "Greater than 0; 0.0002 holds steady with Adam, 0.001 is faster and more fickle".to_string(),
                    Box::new(move |t, s| {
                        validate::learning_rate(t)
                            .ok()
                            .filter(|v| *v != s.net(net).learning_rate)
                            .map(|v| Hyper::LearningRate(net, v))
                    }),
                )}
            </div>
        }
    };

    let stat = |v: Option<f32>, digits: usize| v.map(|q| format!("{q:.digits$}")).unwrap_or_else(|| "\u{2013}".into());

    view! {
        <article class="page lab" data-testid="gan">
            <header class="lab-header">
                <p class="eyebrow">"Lab \u{b7} live"</p>
                <h1>"GAN: a forger against a detective"</h1>
                <p class="lede">
                    "A generator turns random noise into points; a discriminator learns to tell its fakes from \
                     real data. Each improves only by beating the other. Watch the discriminator's map of the \
                     plane, the arrows along which it pushes the fakes, and whether the generator covers every \
                     mode or collapses onto a few."
                </p>
            </header>
            <ErrorBanner error=banner />
            <div class="lab-layout gan-layout">
                <section class="panel controls-panel" aria-labelledby="controls-title">
                    <h2 id="controls-title">"Train"</h2>
                    <LabTrainControls send=send running=running step=step loss=loss seed_text=seed_text seed_error=seed_error seed=current_seed set_seed=set_seed page_error=page_error />
                    <div class="step-buttons">
                        <button type="button" class="button" data-testid="step-d" on:click=move |_| step_one(LabCommand::StepDiscriminator)>
                            "Step discriminator"
                        </button>
                        <button type="button" class="button" data-testid="step-g" on:click=move |_| step_one(LabCommand::StepGenerator)>
                            "Step generator"
                        </button>
                    </div>
                    <p class="note" data-testid="updates">
                        {move || {
                            let (d, g) = updates.get();
                            format!("Updates so far: discriminator {d}, generator {g}.")
                        }}
                    </p>
                    <WeightsControls on_export=move |_| send(Command::ExportWeights) on_import=import_weights />
                    <SpeedField speed=Signal::derive(move || config.get().speed) set_speed=set_speed />
                    <h2>"The game"</h2>
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
                            id="loss"
                            label="Loss"
                            testid="loss-select"
                            options=LossChoice::options()
                            value=Signal::derive(move || config.get().settings.loss.key())
                            on_change=move |key: String| {
                                if let Some(v) = LossChoice::from_key(&key) {
                                    set_hyper(Hyper::Loss(v));
                                }
                            }
                        />
                        {numeric_field(
                            "noise-dim",
                            "Noise dimensions",
                            "noise-dim-input",
                            noise_text,
                            |t| validate::integer_in(t, limits::GAN_NOISE_DIM).err(),
                            validate::range_hint(limits::GAN_NOISE_DIM),
                            Box::new(|t, s| {
                                validate::integer_in(t, limits::GAN_NOISE_DIM)
                                    .ok()
                                    .filter(|v| *v != s.noise_dim)
                                    .map(Hyper::NoiseDim)
                            }),
                        )}
                        {numeric_field(
                            "d-steps",
                            "D steps per G step",
                            "d-steps-input",
                            k_text,
                            |t| validate::integer_in(t, limits::GAN_D_STEPS).err(),
                            validate::range_hint(limits::GAN_D_STEPS),
                            Box::new(|t, s| {
                                validate::integer_in(t, limits::GAN_D_STEPS)
                                    .ok()
                                    .filter(|v| *v != s.d_steps)
                                    .map(Hyper::DSteps)
                            }),
                        )}
                        {numeric_field(
                            "batch",
                            "Batch size",
                            "batch-input",
                            batch_text,
                            |t| validate::batch_size(t).err(),
                            validate::range_hint(limits::BATCH_SIZE),
                            Box::new(|t, s| {
                                validate::batch_size(t).ok().filter(|v| *v != s.batch_size).map(Hyper::BatchSize)
                            }),
                        )}
                        <Show when=move || loss_kind.get() == LossChoice::Wasserstein>
                            {numeric_field(
                                "gp",
                                "Gradient penalty \u{3bb}",
                                "gp-input",
                                gp_text,
                                |t| validate::float_in(t, limits::GRADIENT_PENALTY).err(),
                                validate::range_hint(limits::GRADIENT_PENALTY),
                                Box::new(|t, s| {
                                    validate::float_in(t, limits::GRADIENT_PENALTY)
                                        .ok()
                                        .filter(|v| *v != s.gradient_penalty)
                                        .map(Hyper::GradientPenalty)
                                }),
                            )}
                        </Show>
                    </div>
                    {net_fields(Net::Generator)}
                    {net_fields(Net::Discriminator)}
                    <p class="note">
                        "The data, loss, noise and the networks' shapes start a new run; learning rates, \
                         optimizers, batch size, D steps and \u{3bb} change on the fly. Adam runs with \
                         \u{3b2}\u{2081} = 0.5, as in most GANs since DCGAN. The Wasserstein loss is usually \
                         trained with 5 D steps per G step."
                    </p>
                </section>
                <section class="panel game-panel" aria-labelledby="game-title">
                    <h2 id="game-title">"Real, fake, and the discriminator's view"</h2>
                    <div class="gan-stage">
                        <Heatmap image=heatmap_image testid="disc-heatmap" label="The discriminator's view of the plane: how real it finds each point" />
                        <PointCloud
                            points=samples
                            reference=data
                            arrows=push
                            arrow_scale=0.25
                            extent=EXTENT
                            color=FAKE_COLOR
                            transparent=true
                            testid="gan-samples"
                            label=samples_label
                        />
                    </div>
                    <ul class="legend gan-legend">
                        <li><span class="swatch round" style:background="rgb(120,128,145)"></span>"real data"</li>
                        <li><span class="swatch round" style:background="rgb(55,48,163)"></span>"generated"</li>
                        <li><span class="swatch" style:background="rgb(213,94,0)"></span>"push on each fake"</li>
                        <li><span class="swatch" style:background="rgb(150,200,170)"></span>"\u{201c}real\u{201d}"</li>
                        <li><span class="swatch" style:background="rgb(190,160,220)"></span>"\u{201c}fake\u{201d}"</li>
                    </ul>
                    <p class="note">{heatmap_label}</p>
                    <div class="stats-row">
                        <Stat
                            label="Sample quality"
                            testid="sample-quality"
                            value=Signal::derive(move || sample_quality.get().map(|q| q.to_string()).unwrap_or_default())
                            display=Signal::derive(move || stat(sample_quality.get(), 3))
                        />
                        <Stat
                            label="A fitted Gaussian"
                            testid="gaussian-quality"
                            value=Signal::derive(move || gaussian_quality.get().map(|q| q.to_string()).unwrap_or_default())
                            display=Signal::derive(move || stat(gaussian_quality.get(), 3))
                        />
                        <Show when=move || { modes.get() > 0 }>
                            <Stat
                                label="Modes covered"
                                testid="modes-covered"
                                value=Signal::derive(move || modes_covered.get().map(|m| m.to_string()).unwrap_or_default())
                                display=Signal::derive(move || {
                                    modes_covered.get().map(|m| format!("{m} / {}", modes.get())).unwrap_or_else(|| "\u{2013}".into())
                                })
                            />
                        </Show>
                    </div>
                    <p
                        class="lesson"
                        class:warn=move || coverage.get().is_some_and(|(collapsed, _)| collapsed)
                        data-testid="coverage-message"
                    >
                        {move || coverage.get().map(|(_, text)| text)}
                    </p>
                    <p class="lesson" data-testid="lesson">{lesson}</p>
                    <Show when=move || d_wins_warning().is_some()>
                        <p class="lesson warn" data-testid="d-wins-warning">{d_wins_warning}</p>
                    </Show>
                    <p class="note">
                        {move || {
                            format!(
                                "Sample quality is the sliced Wasserstein distance of {MEASURED} fakes (from fixed noise) \
                                 to held-out data, in the plot's units: lower is closer. A mode counts as covered when \
                                 at least a quarter of its fair share of the fakes lies within three of its standard \
                                 deviations{}.",
                                off_mode.get().map(|f| format!("; {:.0}% of the fakes lie near no mode", f * 100.0)).unwrap_or_default()
                            )
                        }}
                    </p>
                </section>
                <div class="gan-side">
                <section class="panel manifold-panel" aria-labelledby="manifold-title">
                    <h2 id="manifold-title">"From noise to data: the generator's manifold"</h2>
                    <Show
                        when=move || manifold.with(|m| !m.is_empty())
                        fallback=|| view! {
                            <p class="note">"The manifold is drawn for noise of 1 or 2 dimensions: choose one of those to see it."</p>
                        }
                    >
                        <PointCloud
                            points=manifold
                            lines=manifold_lines
                            reference=data
                            extent=EXTENT
                            color=[0, 114, 178]
                            testid="manifold"
                            label="Where the generator sends an even grid of noise values"
                        />
                    </Show>
                    <p class="explain">
                        "An even grid of noise values z, bent by the generator into the plane. Where grid cells \
                         stretch thin, few samples land; where they fold onto the data, many do. A generator that \
                         covers separate modes has to tear or stretch the sheet between them."
                    </p>
                </section>
                <section class="panel training-panel" aria-labelledby="training-title">
                    <h2 id="training-title">"Both losses"</h2>
                    <LineChart
                        series=loss_lines
                        testid="loss-chart"
                        title="Discriminator and generator loss by step"
                        empty_text="Press Start to train"
                        x_label="step"
                        y_label="loss"
                    />
                    <div class="stats-row">
                        <Stat
                            label="D on real"
                            testid="real-score"
                            value=Signal::derive(move || scores.get().map(|s| s.0.to_string()).unwrap_or_default())
                            display=Signal::derive(move || stat(scores.get().map(|s| s.0), 2))
                        />
                        <Stat
                            label="D on fakes"
                            testid="fake-score"
                            value=Signal::derive(move || scores.get().map(|s| s.1.to_string()).unwrap_or_default())
                            display=Signal::derive(move || stat(scores.get().map(|s| s.1), 2))
                        />
                        <Show when=move || penalty.get().is_some()>
                            <Stat
                                label="Penalty"
                                testid="penalty"
                                value=Signal::derive(move || penalty.get().map(|p| p.to_string()).unwrap_or_default())
                                display=Signal::derive(move || stat(penalty.get(), 3))
                            />
                        </Show>
                        <Stat
                            label="Parameters (G + D)"
                            testid="params"
                            value=Signal::derive(move || params.get().map(|(g, d)| (g + d).to_string()).unwrap_or_default())
                            display=Signal::derive(move || {
                                params.get().map(|(g, d)| format!("{} + {}", format_number(g as f64), format_number(d as f64))).unwrap_or_else(|| "\u{2013}".into())
                            })
                        />
                        <Stat
                            label="Time per step"
                            testid="step-ms"
                            value=Signal::derive(move || step_ms.get().map(|m| m.to_string()).unwrap_or_default())
                            display=Signal::derive(move || step_ms.get().map(|m| format!("{m:.2} ms")).unwrap_or_else(|| "\u{2013}".into()))
                        />
                    </div>
                    <p class="explain">
                        "The losses do not fall together: each network's gain is the other's loss. At the game's \
                         balance the discriminator says about 0.5 on both real and fake points (for the \
                         probability losses), and the non-saturating discriminator's loss sits near 2 ln 2 \u{2248} 1.39."
                    </p>
                </section>
                </div>
                <Show when=move || drawing_open.get()>
                    <PointsPanel
                        drawing=drawing
                        on_use=move |points| set_hyper(Hyper::Drawn(points))
                        page_error=page_error
                        note="Click or drag to draw the distribution the generator should imitate."
                    />
                </Show>
            </div>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use super::super::protocol::NetSettings;

    fn pairs(query: &str) -> Vec<(String, String)> {
        url_state::parse_query(query)
    }

    #[test]
    fn the_query_round_trips_a_config() {
        let drawn: Vec<[f32; 2]> = (0..25).map(|i| [i as f32 * 0.2 - 2.5, 1.0 - i as f32 * 0.1]).collect();
        let config = GanConfig {
            settings: GanSettings {
                data: DataChoice::Drawn,
                drawn: decode_points(&encode_points(&drawn)).unwrap(),
                loss: LossChoice::Wasserstein,
                noise_dim: 5,
                generator: NetSettings {
                    width: 96,
                    layers: 3,
                    activation: ActivationChoice::Tanh,
                    optimizer: OptimizerChoice::Sgd,
                    learning_rate: 0.01,
                },
                discriminator: NetSettings {
                    width: 32,
                    layers: 1,
                    activation: ActivationChoice::Sigmoid,
                    optimizer: OptimizerChoice::Adam,
                    learning_rate: 0.0005,
                },
                d_steps: 5,
                batch_size: 64,
                gradient_penalty: 2.5,
            },
            seed: 42,
            speed: SpeedChoice::Slow,
        };
        let query = url_state::encode_query(&config_to_query(&config));
        let (parsed, texts) = config_from_query(&pairs(&query));
        assert_eq!(parsed, config);
        assert_eq!(texts, FieldTexts::of(&config));
    }

    #[test]
    fn bad_query_values_fall_back_but_stay_in_their_fields() {
        let (config, texts) = config_from_query(&pairs("z=0&gw=9999&dlr=-1&k=99&loss=nope&gp=1000"));
        assert_eq!(config, default_config());
        assert_eq!(
            (texts.noise_dim.as_str(), texts.width[0].as_str(), texts.learning_rate[1].as_str()),
            ("0", "9999", "-1")
        );
        assert_eq!((texts.d_steps.as_str(), texts.gradient_penalty.as_str()), ("99", "1000"));
        let (few, _) = config_from_query(&pairs(&format!("data=drawn&pts={}", encode_points(&[[0.0, 0.0]; 3]))));
        assert_eq!(few.settings.data, DataChoice::Ring);
    }

    #[test]
    fn the_pictures_are_built_from_the_tensors() {
        // Certain "fake" is purple, unsure white, certain "real" green.
        let image = realness_image(&[0.0, 0.5, 1.0, f32::NAN], 2).unwrap();
        assert_eq!(&image.pixels[..3], &SAYS_FAKE);
        assert_eq!(&image.pixels[4..7], &UNSURE);
        assert_eq!(&image.pixels[8..11], &SAYS_REAL);
        assert_eq!(&image.pixels[12..15], &UNSURE);
        assert!(realness_image(&[0.5; 3], 2).is_none());
        // A 2 x 3 grid: 2 rows and 3 columns of lines.
        let grid: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let lines = grid_lines(&[2, 3, 2], &grid);
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        assert_eq!(lines[2], vec![0.0, 1.0, 6.0, 7.0]);
        assert_eq!(grid_lines(&[1, 3, 2], &grid[..6]).len(), 1);
        assert!(grid_lines(&[2, 3, 2], &grid[..5]).is_empty());
    }

    #[test]
    fn mode_collapse_is_named_only_after_the_generator_had_time_to_spread() {
        assert_eq!(coverage_message(None, 8, 1000), None);
        assert_eq!(coverage_message(Some(8), 8, 1000).map(|m| m.0), Some(false));
        assert!(!coverage_message(Some(3), 8, 10).unwrap().0);
        let (collapsed, text) = coverage_message(Some(3), 8, 5000).unwrap();
        assert!(collapsed && text.starts_with("Mode collapse: the fakes cover 3 of 8 modes"), "{text}");
        // One thin mode of eight is not a collapse; two are.
        assert!(!coverage_message(Some(7), 8, 5000).unwrap().0);
        assert!(coverage_message(Some(6), 8, 5000).unwrap().0);
        // Of the grid's 25, a quarter (7) lost is.
        assert!(!coverage_message(Some(19), 25, 5000).unwrap().0);
        assert!(coverage_message(Some(18), 25, 5000).unwrap().0);
    }
}
