//! `/sequences`: a tanh RNN, a GRU and an LSTM learn the same task side by
//! side. The centrepiece is the gradient-norm chart: how much of the error
//! signal reaches each earlier time step. Beside it, the GRU's gates and
//! every network's hidden state on one held-out sequence.

use leptos::prelude::*;

use super::protocol::{
    integers, metrics, tensors, Command as LabCommand, Hyper, SequencesProtocol, SequencesSettings, TaskChoice,
    DEFAULT_SEED, HELD_OUT, MODELS,
};
use crate::components::{
    append_named, named_loss_series, palette_color, time_heatmap::Cell, ErrorBanner, History, LineChart, SelectField, Series, Stat, TextField,
    TimeHeatmap, TimeMatrix, TimeScale, WeightsControls,
};
use crate::draw::format_number;
use crate::pages::lab_controls::{spawn_lab_worker, LabTrainControls, SpeedField};
use crate::url_state;
use crate::validate;
use crate::worker::protocol::{Command, OptimizerChoice, Run, Snapshot, SpeedChoice};
use deepplay_core::data::sequences::{DISTRACTORS, SYMBOLS};
use deepplay_core::limits;

/// A Sequences run: its settings, seed and speed.
pub type SequencesConfig = Run<SequencesSettings>;

fn default_config() -> SequencesConfig {
    Run {
        settings: SequencesSettings::default(),
        seed: DEFAULT_SEED,
        speed: SpeedChoice::Full,
    }
}

/// Points kept per loss curve.
const HISTORY_CAPACITY: usize = 600;

/// What the page calls each model.
const TITLES: [&str; 3] = ["RNN (tanh)", "GRU", "LSTM"];

/// The text of each field, as typed (possibly invalid).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTexts {
    pub seed: String,
    pub length: String,
    pub hidden: String,
    pub learning_rate: String,
    pub batch_size: String,
    pub clip: String,
}

impl FieldTexts {
    pub fn of(config: &SequencesConfig) -> Self {
        let s = &config.settings;
        Self {
            seed: config.seed.to_string(),
            length: s.length.to_string(),
            hidden: s.hidden.to_string(),
            learning_rate: s.learning_rate.to_string(),
            batch_size: s.batch_size.to_string(),
            clip: s.clip.to_string(),
        }
    }
}

/// Reads a config from URL query pairs. Invalid values fall back to the
/// defaults; the field texts keep what the URL said, so the message shows
/// next to its field.
pub fn config_from_query(pairs: &[(String, String)]) -> (SequencesConfig, FieldTexts) {
    let mut config = default_config();
    let mut texts = FieldTexts::of(&config);
    let get = |key| url_state::get(pairs, key);
    let s = &mut config.settings;
    if let Some(t) = get("task").and_then(TaskChoice::from_key) {
        s.task = t;
    }
    if let Some(o) = get("opt").and_then(OptimizerChoice::from_key) {
        s.optimizer = o;
    }
    match get("lstm") {
        Some("0") => s.lstm = false,
        Some("1") => s.lstm = true,
        _ => {}
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
    let s = &mut config.settings;
    if let Some(text) = get("len") {
        texts.length = text.to_string();
        if let Ok(v) = validate::seq_length(text) {
            s.length = v;
        }
    }
    if let Some(text) = get("hidden") {
        texts.hidden = text.to_string();
        if let Ok(v) = validate::rnn_hidden(text) {
            s.hidden = v;
        }
    }
    if let Some(text) = get("lr") {
        texts.learning_rate = text.to_string();
        if let Ok(v) = validate::learning_rate(text) {
            s.learning_rate = v;
        }
    }
    if let Some(text) = get("batch") {
        texts.batch_size = text.to_string();
        if let Ok(v) = validate::batch_size(text) {
            s.batch_size = v;
        }
    }
    if let Some(text) = get("clip") {
        texts.clip = text.to_string();
        if let Ok(v) = validate::clip(text) {
            s.clip = v;
        }
    }
    (config, texts)
}

/// The URL query that reproduces `config`.
pub fn config_to_query(config: &SequencesConfig) -> Vec<(&'static str, String)> {
    let s = &config.settings;
    vec![
        ("task", s.task.key().to_string()),
        ("len", s.length.to_string()),
        ("hidden", s.hidden.to_string()),
        ("lstm", if s.lstm { "1" } else { "0" }.to_string()),
        ("opt", s.optimizer.key().to_string()),
        ("lr", s.learning_rate.to_string()),
        ("batch", s.batch_size.to_string()),
        ("clip", s.clip.to_string()),
        ("seed", config.seed.to_string()),
        ("speed", config.speed.key().to_string()),
    ]
}

/// The gradient-norm curves: x is how many steps before the end (0 is the
/// last step, where the loss is), y the norm; one line per model.
pub fn grad_norm_series(norms: &[Option<Vec<f32>>; 3]) -> Vec<Series> {
    norms
        .iter()
        .enumerate()
        .filter_map(|(i, n)| n.as_ref().map(|n| (i, n)))
        .map(|(i, n)| Series {
            label: TITLES[i].to_string(),
            color: palette_color(i),
            width: 2.0,
            alpha: 1.0,
            points: n
                .iter()
                .rev()
                .enumerate()
                .map(|(back, &v)| (back as f64, f64::from(v)))
                .collect(),
        })
        .collect()
}

/// How much the gradient shrank from the last step to the first: the ratio
/// the chart shows, in words ("1e-9 of it reaches step 1").
fn survival_text(norms: &[f32]) -> Option<String> {
    let (first, last) = (*norms.first()?, *norms.last()?);
    if !(last > 0.0 && first.is_finite()) {
        return None;
    }
    Some(format_number(f64::from(first / last)))
}

/// The traced example in symbols: `A · · · ?` for the first-symbol task,
/// the marked values for the adding problem.
fn example_text(task: TaskChoice, example: &[f32], inputs: usize) -> String {
    let steps = example.chunks_exact(inputs.max(1));
    match task {
        TaskChoice::First => steps
            .map(|step| match step.iter().position(|&v| v == 1.0) {
                Some(k) if k < SYMBOLS => char::from(b'A' + k as u8).to_string(),
                Some(k) if k < SYMBOLS + DISTRACTORS => "\u{b7}".to_string(),
                _ => "?".to_string(),
            })
            .collect::<Vec<_>>()
            .join(" "),
        TaskChoice::Adding => {
            let marked: Vec<String> = steps
                .enumerate()
                .filter(|(_, s)| s.get(1) == Some(&1.0))
                .map(|(t, s)| format!("{:.2} at step {}", s[0], t + 1))
                .collect();
            format!("marked: {}", marked.join(" and "))
        }
        TaskChoice::Sines => String::new(),
    }
}

/// The traced example's answer and each model's, in words.
fn answer_text(task: TaskChoice, truth: &[f32], predictions: &[Option<Vec<f32>>; 3]) -> String {
    let Some(&answer) = truth.first() else {
        return String::new();
    };
    let said = |p: &[f32]| match task {
        TaskChoice::First => {
            let best = p
                .iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |b, (k, &v)| if v > b.1 { (k, v) } else { b });
            char::from(b'A' + best.0 as u8).to_string()
        }
        _ => format!("{:.2}", p.first().copied().unwrap_or(f32::NAN)),
    };
    let right = match task {
        TaskChoice::First => char::from(b'A' + answer as u8).to_string(),
        _ => format!("{answer:.2}"),
    };
    let models: Vec<String> = predictions
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.as_ref().map(|p| format!("{} says {}", TITLES[i], said(p))))
        .collect();
    format!("Answer {right}; {}.", models.join(", "))
}

#[component]
pub fn SequencesPage() -> impl IntoView {
    let (initial, texts) = config_from_query(&url_state::read());

    // What the worker reports.
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let histories = RwSignal::new(Vec::<(String, History)>::new());
    let accuracy = RwSignal::new([None::<f32>; 3]);
    let params = RwSignal::new([None::<u64>; 3]);
    let step_ms = RwSignal::new([None::<f32>; 3]);
    let chance = RwSignal::new(None::<f32>);
    let grad_norms = RwSignal::new([None::<Vec<f32>>, None, None]);
    let hidden = RwSignal::new([None::<TimeMatrix>, None, None]);
    let predictions = RwSignal::new([None::<Vec<f32>>, None, None]);
    let gate_update = RwSignal::new(None::<TimeMatrix>);
    let gate_reset = RwSignal::new(None::<TimeMatrix>);
    let example = RwSignal::new((Vec::<f32>::new(), 1usize));
    let truth = RwSignal::new(Vec::<f32>::new());
    let training_error = RwSignal::new(None::<String>);
    let page_error = RwSignal::new(None::<String>);
    // The equation line to highlight: "z", "r", "n" or "h".
    let highlight = RwSignal::new(None::<&'static str>);

    // The settings: the last valid ones, and the fields as typed.
    let config = RwSignal::new(initial);
    let seed_text = RwSignal::new(texts.seed);
    let length_text = RwSignal::new(texts.length);
    let hidden_text = RwSignal::new(texts.hidden);
    let lr_text = RwSignal::new(texts.learning_rate);
    let batch_text = RwSignal::new(texts.batch_size);
    let clip_text = RwSignal::new(texts.clip);
    let example_index_text = RwSignal::new("0".to_string());
    let seed_error = Signal::derive(move || validate::seed(&seed_text.get()).err());
    let length_error = Signal::derive(move || validate::seq_length(&length_text.get()).err());
    let hidden_error = Signal::derive(move || validate::rnn_hidden(&hidden_text.get()).err());
    let lr_error = Signal::derive(move || validate::learning_rate(&lr_text.get()).err());
    let batch_error = Signal::derive(move || validate::batch_size(&batch_text.get()).err());
    let clip_error = Signal::derive(move || validate::clip(&clip_text.get()).err());
    let example_error = Signal::derive(move || {
        validate::parse_integer(&example_index_text.get(), 0, HELD_OUT as u64 - 1)
            .err()
            .map(|e| format!("Example: {e}"))
    });

    let on_snapshot = move |s: Snapshot| {
        if s.fresh_run {
            histories.set(Vec::new());
            accuracy.set([None; 3]);
            step_ms.set([None; 3]);
            grad_norms.set([None, None, None]);
            hidden.set([None, None, None]);
            predictions.set([None, None, None]);
            gate_update.set(None);
            gate_reset.set(None);
            if let Some(c) = s.metric(metrics::CHANCE) {
                chance.set(Some(c));
            }
            params.set(MODELS.map(|m| s.integer(&tensors::of(integers::PARAMS, m))));
        }
        step.set(s.step);
        loss.set(s.loss());
        running.set(s.running);
        histories.update(|hs| {
            for series in &s.losses {
                // A run's curves start with its first step, in the order
                // the trainer sends them (rnn, gru, lstm: the palette's).
                // The legend reads as the cards do: "RNN (tanh)", not "rnn".
                let label = MODELS
                    .iter()
                    .position(|m| *m == series.name)
                    .map_or(series.name.as_str(), |i| TITLES[i]);
                append_named(hs, label, &series.new_points, HISTORY_CAPACITY);
            }
        });
        for (i, m) in MODELS.iter().enumerate() {
            if let Some(a) = s.metric(&tensors::of(metrics::ACCURACY, m)) {
                accuracy.update(|acc| acc[i] = Some(a));
            }
            if let Some(ms) = s.metric(&tensors::of(metrics::STEP_MS, m)) {
                step_ms.update(|v| v[i] = Some(ms));
            }
            if let Some(t) = s.tensor(&tensors::of(tensors::GRAD_NORM, m)) {
                grad_norms.update(|g| g[i] = Some(t.data.clone()));
            }
            if let Some(t) = s.tensor(&tensors::of(tensors::HIDDEN, m)) {
                hidden.update(|h| h[i] = TimeMatrix::new(&t.shape, t.data.clone()));
            }
            if let Some(t) = s.tensor(&tensors::of(tensors::PREDICTION, m)) {
                predictions.update(|p| p[i] = Some(t.data.clone()));
            }
        }
        if let Some(t) = s.tensor(tensors::GATE_UPDATE) {
            gate_update.set(TimeMatrix::new(&t.shape, t.data.clone()));
        }
        if let Some(t) = s.tensor(tensors::GATE_RESET) {
            gate_reset.set(TimeMatrix::new(&t.shape, t.data.clone()));
        }
        if let Some(t) = s.tensor(tensors::EXAMPLE) {
            example.set((t.data.clone(), t.shape.get(1).copied().unwrap_or(1)));
        }
        if let Some(t) = s.tensor(tensors::TRUTH) {
            truth.set(t.data.clone());
        }
        training_error.set(s.error);
    };

    let link = spawn_lab_worker::<SequencesProtocol>(
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
    let loss_lines = Signal::derive(move || histories.with(|h| named_loss_series(h)));
    let grad_lines = Signal::derive(move || grad_norms.with(grad_norm_series));
    let task = Signal::derive(move || config.get().settings.task);
    let lstm_on = Signal::derive(move || config.get().settings.lstm);
    let is_series = Signal::derive(move || task.get() == TaskChoice::Sines);

    let series_lines = Signal::derive(move || {
        let mut lines = vec![Series {
            label: "truth (next value)".into(),
            color: [80, 80, 80],
            width: 2.5,
            alpha: 1.0,
            points: truth.with(|t| t.iter().enumerate().map(|(i, &v)| (i as f64, f64::from(v))).collect()),
        }];
        predictions.with(|p| {
            for (i, pred) in p.iter().enumerate() {
                if let Some(pred) = pred {
                    lines.push(Series {
                        label: TITLES[i].to_string(),
                        color: palette_color(i),
                        width: 1.5,
                        alpha: 0.9,
                        points: pred.iter().enumerate().map(|(t, &v)| (t as f64, f64::from(v))).collect(),
                    });
                }
            }
        });
        lines
    });

    let model_card = move |i: usize| {
        let name = MODELS[i];
        let testid = match i {
            0 => "rnn-accuracy",
            1 => "gru-accuracy",
            _ => "lstm-accuracy",
        };
        let off = move || i == 2 && !lstm_on.get();
        let top_color = format!("rgb({},{},{})", palette_color(i)[0], palette_color(i)[1], palette_color(i)[2]);
        view! {
            <div class="model-card" class:off=off data-model=name style:border-top-color=top_color>
                <h3>{TITLES[i]}</h3>
                <Stat
                    label="Held-out accuracy"
                    testid=testid
                    value=Signal::derive(move || accuracy.get()[i].map(|a| a.to_string()).unwrap_or_default())
                    display=Signal::derive(move || {
                        if off() {
                            "off".into()
                        } else {
                            accuracy.get()[i].map(|a| format!("{:.1}%", a * 100.0)).unwrap_or_else(|| "\u{2013}".into())
                        }
                    })
                />
                <dl class="model-facts">
                    <dt>"Parameters"</dt>
                    <dd data-testid=format!("{name}-params")>
                        {move || params.get()[i].map(|p| format_number(p as f64)).unwrap_or_else(|| "\u{2013}".into())}
                    </dd>
                    <dt>"Time per step"</dt>
                    <dd data-testid=format!("{name}-step-ms")>
                        {move || step_ms.get()[i].map(|ms| format!("{ms:.2} ms")).unwrap_or_else(|| "\u{2013}".into())}
                    </dd>
                </dl>
            </div>
        }
    };

    let hidden_view = move |i: usize| {
        let label = match i {
            0 => "RNN hidden state h\u{209c} (unit \u{d7} step)",
            1 => "GRU hidden state h\u{209c} (unit \u{d7} step)",
            _ => "LSTM hidden state h\u{209c} (unit \u{d7} step)",
        };
        let testid = match i {
            0 => "hidden-rnn",
            1 => "hidden-gru",
            _ => "hidden-lstm",
        };
        let on_hover = move |cell: Option<Cell>| highlight.set(cell.filter(|_| i == 1).map(|_| "h"));
        view! {
            <Show when=move || i < 2 || lstm_on.get()>
                <TimeHeatmap
                    matrix=Signal::derive(move || hidden.with(|h| h[i].clone()))
                    scale=TimeScale::Signed
                    testid=testid
                    label=label
                    on_hover=on_hover
                />
            </Show>
        }
    };

    let line = move |symbol: &'static str, text: &'static str, meaning: &'static str| {
        view! {
            <li class:lit=move || highlight.get() == Some(symbol)>
                <code>{text}</code>
                <span class="meaning">{meaning}</span>
            </li>
        }
    };

    let hover_update = move |cell: Option<Cell>| highlight.set(cell.map(|_| "z"));
    let hover_reset = move |cell: Option<Cell>| highlight.set(cell.map(|_| "r"));
    let survival = move |i: usize| grad_norms.with(|g| g[i].as_deref().and_then(survival_text));

    view! {
        <article class="page lab" data-testid="sequences">
            <header class="lab-header">
                <p class="eyebrow">"Lab \u{b7} live"</p>
                <h1>"Sequences: RNN, GRU and LSTM"</h1>
                <p class="lede">
                    "Three recurrent networks of the same size learn the same task from the same \
                     batches. On the default task the answer is the first symbol of the sequence, \
                     so a network must carry it through every later step. The vanilla RNN cannot: \
                     its gradient vanishes on the way back. Watch it happen below."
                </p>
            </header>
            <ErrorBanner error=banner />
            <div class="lab-layout seq-layout">
                <section class="panel controls-panel" aria-labelledby="controls-title">
                    <h2 id="controls-title">"Train"</h2>
                    <LabTrainControls send=send running=running step=step loss=loss seed_text=seed_text seed_error=seed_error seed=current_seed set_seed=set_seed page_error=page_error />
                    <WeightsControls on_export=move |_| send(Command::ExportWeights) on_import=import_weights />
                    <SpeedField speed=Signal::derive(move || config.get().speed) set_speed=set_speed />
                    <h2>"Task and models"</h2>
                    <div class="field-grid">
                        <SelectField
                            id="task"
                            label="Task"
                            testid="task-select"
                            options=TaskChoice::options()
                            value=Signal::derive(move || config.get().settings.task.key())
                            on_change=move |key: String| {
                                if let Some(t) = TaskChoice::from_key(&key) {
                                    set_hyper(Hyper::Task(t));
                                }
                            }
                        />
                        <TextField
                            id="seq-length"
                            label="Length"
                            testid="seq-length"
                            value=length_text
                            error=length_error
                            hint=format!("Steps, {}", validate::range_hint(limits::SEQ_LENGTH))
                            inputmode="numeric"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::seq_length(&text) {
                                    if v != config.get_untracked().settings.length {
                                        set_hyper(Hyper::Length(v));
                                    }
                                }
                            }
                        />
                        <TextField
                            id="hidden-size"
                            label="Hidden size"
                            testid="hidden-size"
                            value=hidden_text
                            error=hidden_error
                            hint=format!("Units, {}", validate::range_hint(limits::RNN_HIDDEN))
                            inputmode="numeric"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::rnn_hidden(&text) {
                                    if v != config.get_untracked().settings.hidden {
                                        set_hyper(Hyper::Hidden(v));
                                    }
                                }
                            }
                        />
                        <div class="field checkbox">
                            <label>
                                <input
                                    type="checkbox"
                                    data-testid="lstm-toggle"
                                    prop:checked=move || config.get().settings.lstm
                                    on:change=move |ev| set_hyper(Hyper::Lstm(event_target_checked(&ev)))
                                />
                                " Train an LSTM too"
                            </label>
                        </div>
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
                            hint="Greater than 0; 0.003 to 0.03 works well"
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
                            hint=validate::range_hint(limits::BATCH_SIZE)
                            inputmode="numeric"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::batch_size(&text) {
                                    if v != config.get_untracked().settings.batch_size {
                                        set_hyper(Hyper::BatchSize(v));
                                    }
                                }
                            }
                        />
                        <TextField
                            id="clip"
                            label="Clip gradient norm"
                            testid="clip-input"
                            value=clip_text
                            error=clip_error
                            hint="0 turns clipping off"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::clip(&text) {
                                    if v != config.get_untracked().settings.clip {
                                        set_hyper(Hyper::Clip(v));
                                    }
                                }
                            }
                        />
                    </div>
                    <p class="note">
                        "Changing the task, length, hidden size or the LSTM starts a new run; the \
                         learning rate, batch size, optimizer, clipping and speed change on the fly."
                    </p>
                </section>
                <section class="panel models-panel" aria-labelledby="models-title">
                    <h2 id="models-title">"Three networks, same batches"</h2>
                    <div class="model-cards">{model_card(0)} {model_card(1)} {model_card(2)}</div>
                    <p class="note">
                        {move || chance.get().map(|c| format!(
                            "Accuracy on {HELD_OUT} held-out sequences. Guessing scores about {:.0}%.",
                            c * 100.0
                        ))}
                    </p>
                    <LineChart
                        series=loss_lines
                        testid="loss-chart"
                        title="Training loss by step, per network"
                        empty_text="Press Start to train"
                    />
                </section>
                <section class="panel grad-panel" aria-labelledby="grad-title">
                    <h2 id="grad-title">"The vanishing gradient"</h2>
                    <LineChart
                        series=grad_lines
                        testid="grad-norm-chart"
                        title="Gradient norm \u{2016}\u{2202}L/\u{2202}h\u{209c}\u{2016} at each step, from the last step back to the first (log scale)"
                        empty_text="Train a step to measure the gradients"
                        log_y=true
                        x_label="steps before the end"
                        y_label="gradient norm"
                    />
                    <p class="explain">
                        "The loss is measured at the last step. Each line shows how much of its \
                         gradient reaches each earlier step: a line that falls by a factor of ten \
                         every few steps means the early steps learn almost nothing, which is the \
                         vanishing gradient. The GRU's update gate lets the gradient pass almost \
                         unchanged, so its line stays up."
                    </p>
                    <p class="note">
                        {move || {
                            let parts: Vec<String> = (0..3)
                                .filter_map(|i| survival(i).map(|s| format!("{}: {s}", TITLES[i])))
                                .collect();
                            (!parts.is_empty())
                                .then(|| format!("First step's gradient over the last's \u{2014} {}.", parts.join("; ")))
                        }}
                    </p>
                </section>
                <section class="panel gates-panel" aria-labelledby="gates-title">
                    <h2 id="gates-title">"Inside the GRU"</h2>
                    <div class="field-grid">
                        <TextField
                            id="example"
                            label="Held-out example"
                            testid="example-input"
                            value=example_index_text
                            error=example_error
                            hint=format!("0 to {}", HELD_OUT - 1)
                            inputmode="numeric"
                            on_commit=move |text: String| {
                                if let Ok(v) = validate::parse_integer(&text, 0, HELD_OUT as u64 - 1) {
                                    link.command(&LabCommand::Example(v as usize));
                                }
                            }
                        />
                    </div>
                    <p class="example-text" data-testid="example-text">
                        {move || example.with(|(e, inputs)| example_text(task.get(), e, *inputs))}
                    </p>
                    <p class="note">
                        {move || {
                            (!is_series.get())
                                .then(|| truth.with(|t| predictions.with(|p| answer_text(task.get(), t, p))))
                        }}
                    </p>
                    <Show when=move || is_series.get()>
                        <LineChart
                            series=series_lines
                            testid="series-chart"
                            title="This example: the next value and each network's prediction"
                        />
                    </Show>
                    <div class="gates-grid">
                        <div class="gate-maps">
                            <TimeHeatmap
                                matrix=gate_update
                                scale=TimeScale::Unit
                                testid="gate-update"
                                label="Update gate z\u{209c} (unit \u{d7} step; 1 keeps the old state)"
                                on_hover=hover_update
                            />
                            <TimeHeatmap
                                matrix=gate_reset
                                scale=TimeScale::Unit
                                testid="gate-reset"
                                label="Reset gate r\u{209c} (unit \u{d7} step; 0 ignores the old state)"
                                on_hover=hover_reset
                            />
                        </div>
                        <ol class="equations" aria-label="The GRU's equations">
                            {line("r", "r\u{209c} = \u{3c3}(W\u{1d62}\u{1d63}x\u{209c} + W\u{2095}\u{1d63}h\u{209c}\u{208b}\u{2081} + b\u{1d63})", "reset gate: how much of the old state the candidate sees")}
                            {line("z", "z\u{209c} = \u{3c3}(W\u{1d62}z x\u{209c} + W\u{2095}z h\u{209c}\u{208b}\u{2081} + b_z)", "update gate: how much of the old state to keep")}
                            {line("n", "n\u{209c} = tanh(W\u{1d62}\u{2099}x\u{209c} + r\u{209c} \u{2299} (W\u{2095}\u{2099}h\u{209c}\u{208b}\u{2081} + b\u{2095}\u{2099}))", "candidate state")}
                            {line("h", "h\u{209c} = (1 \u{2212} z\u{209c}) \u{2299} n\u{209c} + z\u{209c} \u{2299} h\u{209c}\u{208b}\u{2081}", "new state: where z\u{209c} \u{2248} 1, h\u{209c} \u{2248} h\u{209c}\u{208b}\u{2081} and the gradient passes through")}
                        </ol>
                    </div>
                    <h3>"Hidden states over time"</h3>
                    <div class="hidden-maps">{hidden_view(0)} {hidden_view(1)} {hidden_view(2)}</div>
                    <p class="note">
                        "Blue is \u{2212}1, white 0, red +1. A network that remembers the first \
                         symbol keeps some units steady from step 1 to the end."
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
    fn the_query_round_trips_a_config() {
        let config = SequencesConfig {
            settings: SequencesSettings {
                task: TaskChoice::Adding,
                length: 77,
                hidden: 12,
                lstm: false,
                optimizer: OptimizerChoice::Sgd,
                learning_rate: 0.3,
                batch_size: 7,
                clip: 0.0,
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
        let (config, texts) = config_from_query(&pairs("len=1&hidden=500&clip=-2&task=nope"));
        assert_eq!(config, default_config());
        assert_eq!((texts.length.as_str(), texts.hidden.as_str(), texts.clip.as_str()), ("1", "500", "-2"));
    }

    #[test]
    fn gradient_lines_run_from_the_last_step_back() {
        let lines = grad_norm_series(&[Some(vec![0.001, 0.1, 1.0]), Some(vec![0.5, 0.8, 1.0]), None]);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].points, vec![(0.0, 1.0), (1.0, 0.1f32 as f64), (2.0, 0.001f32 as f64)]);
        assert_eq!(lines[1].label, "GRU");
        assert_ne!(lines[0].color, lines[1].color);
    }

    #[test]
    fn examples_read_as_symbols() {
        // A, a distractor, the query: 9 inputs per step.
        let mut e = vec![0.0; 27];
        e[0] = 1.0;
        e[9 + SYMBOLS] = 1.0;
        e[18 + SYMBOLS + DISTRACTORS] = 1.0;
        assert_eq!(example_text(TaskChoice::First, &e, 9), "A \u{b7} ?");
        let answer = answer_text(TaskChoice::First, &[2.0], &[Some(vec![0.0, 0.0, 3.0, 0.0]), None, None]);
        assert_eq!(answer, "Answer C; RNN (tanh) says C.");
    }
}
