//! `/attention`: a small Transformer learns live. Every head's attention map
//! on a sentence the visitor types, the positional-encoding table, and the
//! lesson: without positions, "the dog ate the food" and "the food ate the
//! dog" are the same bag of words.

use leptos::prelude::*;

use super::protocol::{
    default_probe, integers, metrics, tensors, AttentionProtocol, AttentionSettings, Command as LabCommand, Hyper,
    PositionChoice, TaskChoice, DEFAULT_SEED, HELD_OUT,
};
use super::trainer::{parse_probe, task as token_task};
use crate::components::{
    loss_series, palette_color, AttentionMap, AttentionWeights, ErrorBanner, History, LineChart, SelectField, Series,
    Stat, TextField, TimeHeatmap, TimeMatrix, TimeScale, WeightsControls,
};
use crate::draw::{css_rgb, diverging, format_number};
use crate::pages::lab_controls::{spawn_lab_worker, LabTrainControls, SpeedField};
use crate::url_state;
use crate::validate;
use crate::worker::protocol::{Command, OptimizerChoice, Run, Snapshot, SpeedChoice};
use deepplay_core::limits;

/// An Attention run: its settings, seed and speed.
pub type AttentionConfig = Run<AttentionSettings>;

fn default_config() -> AttentionConfig {
    Run {
        settings: AttentionSettings::default(),
        seed: DEFAULT_SEED,
        speed: SpeedChoice::Full,
    }
}

/// Points kept of the loss curve.
const HISTORY_CAPACITY: usize = 600;

/// Sentences one click away: the pair that differs only in order first,
/// then the passive that turns the roles round again.
const EXAMPLES: [&str; 5] = [
    "the dog ate the food",
    "the food ate the dog",
    "the food was eaten by the dog",
    "a hungry cat quickly chased the small mouse",
    "the old horse was seen by a happy girl",
];

/// The question of a who-did-what probe: 0 asks who acted, 1 whom.
const QUESTIONS: [(&str, &str); 2] = [("who", "Who acted? (who?)"), ("whom", "Who was acted on? (whom?)")];

/// The text of each field, as typed (possibly invalid).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTexts {
    pub seed: String,
    pub digits: String,
    pub d_model: String,
    pub heads: String,
    pub layers: String,
    pub learning_rate: String,
    pub batch_size: String,
}

impl FieldTexts {
    pub fn of(config: &AttentionConfig) -> Self {
        let s = &config.settings;
        Self {
            seed: config.seed.to_string(),
            digits: s.digits.to_string(),
            d_model: s.d_model.to_string(),
            heads: s.heads.to_string(),
            layers: s.layers.to_string(),
            learning_rate: s.learning_rate.to_string(),
            batch_size: s.batch_size.to_string(),
        }
    }
}

/// Reads a config from URL query pairs. Invalid values fall back to the
/// defaults; the field texts keep what the URL said, so that the message
/// shows next to its field.
pub fn config_from_query(pairs: &[(String, String)]) -> (AttentionConfig, FieldTexts) {
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
    match get("pe") {
        Some("off") => s.positional = false,
        Some(key) => {
            if let Some(kind) = PositionChoice::from_key(key) {
                s.positional = true;
                s.position_kind = kind;
            }
        }
        None => {}
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
    // Each field keeps the URL's text; its value is used only when valid.
    let read = |key: &'static str, slot: &mut String| {
        let text = get(key)?;
        *slot = text.to_string();
        Some(text)
    };
    let s = &mut config.settings;
    if let Some(v) = read("digits", &mut texts.digits).and_then(|t| validate::digit_length(t).ok()) {
        s.digits = v;
    }
    if let Some(v) = read("d", &mut texts.d_model).and_then(|t| validate::d_model(t).ok()) {
        s.d_model = v;
    }
    if let Some(v) = read("layers", &mut texts.layers).and_then(|t| validate::layers(t).ok()) {
        s.layers = v;
    }
    if let Some(v) = read("lr", &mut texts.learning_rate).and_then(|t| validate::learning_rate(t).ok()) {
        s.learning_rate = v;
    }
    if let Some(v) = read("batch", &mut texts.batch_size).and_then(|t| validate::batch_size(t).ok()) {
        s.batch_size = v;
    }
    // Heads must divide the width: checked against the width just read.
    if let Some(text) = get("heads") {
        texts.heads = text.to_string();
        match validate::heads(text, s.d_model) {
            Ok(v) => s.heads = v,
            // The default 4 heads may not divide a width from the URL either.
            Err(_) if !s.d_model.is_multiple_of(s.heads) => s.heads = 1,
            Err(_) => {}
        }
    } else if !s.d_model.is_multiple_of(s.heads) {
        s.heads = 1;
        texts.heads = "1".into();
    }
    (config, texts)
}

/// The URL query that reproduces `config`.
pub fn config_to_query(config: &AttentionConfig) -> Vec<(&'static str, String)> {
    let s = &config.settings;
    vec![
        ("task", s.task.key().to_string()),
        ("digits", s.digits.to_string()),
        (
            "pe",
            if s.positional { s.position_kind.key() } else { "off" }.to_string(),
        ),
        ("d", s.d_model.to_string()),
        ("heads", s.heads.to_string()),
        ("layers", s.layers.to_string()),
        ("opt", s.optimizer.key().to_string()),
        ("lr", s.learning_rate.to_string()),
        ("batch", s.batch_size.to_string()),
        ("seed", config.seed.to_string()),
        ("speed", config.speed.key().to_string()),
    ]
}

/// A tensor as the trainer sent it.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Block {
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

impl Block {
    /// Slice `index` of the first axis, as a `[rows, cols]` matrix.
    fn plane(&self, index: usize) -> Option<(usize, usize, &[f32])> {
        let [count, rows, cols] = self.shape[..] else {
            return None;
        };
        let size = rows * cols;
        (index < count && self.data.len() == count * size)
            .then(|| (rows, cols, &self.data[index * size..(index + 1) * size]))
    }
}

/// Head `head`'s weights from a layer's `[heads, L, L]` block.
pub fn head_weights(block: &Block, head: usize) -> Option<AttentionWeights> {
    let (rows, cols, data) = block.plane(head)?;
    AttentionWeights::new(&[rows, cols], data.to_vec())
}

/// What query `query` gathers in one head: `sum_j a_qj v_j`, from the
/// head's weights and its `[L, D]` values.
pub fn gathered(weights: &AttentionWeights, values: &Block, head: usize, query: usize) -> Option<Vec<f32>> {
    let (rows, width, v) = values.plane(head)?;
    let a = weights.row(query)?;
    (a.len() == rows).then(|| {
        (0..width)
            .map(|k| a.iter().enumerate().map(|(j, w)| w * v[j * width + k]).sum())
            .collect()
    })
}

/// The index of the largest value.
fn argmax(values: &[f32]) -> Option<usize> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_finite())
        .fold(None, |best: Option<(usize, f32)>, (k, &v)| match best {
            Some((_, b)) if b >= v => best,
            _ => Some((k, v)),
        })
        .map(|(k, _)| k)
}

/// The model's answer to the probe, in words, and whether it is right.
pub fn answer_text(task: TaskChoice, probabilities: &Block, probe: &[usize], expected: Option<usize>) -> String {
    let t = token_task(task);
    match task {
        TaskChoice::Who => {
            let Some(k) = argmax(&probabilities.data) else {
                return String::new();
            };
            let verdict = match expected {
                Some(e) if e == k => " \u{2014} right.".to_string(),
                Some(e) => format!(" \u{2014} wrong: it is {}.", t.answer(e)),
                None => ".".to_string(),
            };
            format!(
                "The model answers \u{201c}{}\u{201d} ({:.0}%){verdict}",
                t.answer(k),
                probabilities.data[k] * 100.0
            )
        }
        TaskChoice::Reverse | TaskChoice::Sort => {
            let classes = t.classes();
            let said: Vec<usize> = probabilities.data.chunks_exact(classes).filter_map(argmax).collect();
            let mut truth = probe.to_vec();
            if task == TaskChoice::Sort {
                truth.sort_unstable();
            } else {
                truth.reverse();
            }
            let right = said.iter().zip(&truth).filter(|(a, b)| a == b).count();
            let digits = |v: &[usize]| v.iter().map(|d| d.to_string()).collect::<String>();
            format!(
                "The model writes {} (the answer is {}): {right} of {} digits right.",
                digits(&said),
                digits(&truth),
                truth.len()
            )
        }
    }
}

/// A few dimensions of the position table as waves over the positions: the
/// sinusoids drawn smoothly from their formula, a learned table as it is.
pub fn wave_series(table: &Block, sinusoidal: bool) -> Vec<Series> {
    let [length, d] = table.shape[..] else {
        return Vec::new();
    };
    let mut dims: Vec<usize> = [0, 2, d / 4 * 2, d / 2 * 2].into_iter().filter(|&j| j < d).collect();
    dims.dedup();
    dims.iter()
        .enumerate()
        .map(|(i, &j)| {
            let points: Vec<(f64, f64)> = if sinusoidal {
                let rate = 1.0 / 10000f64.powf((j / 2 * 2) as f64 / d as f64);
                (0..=(length - 1) * 10)
                    .map(|k| {
                        let p = k as f64 / 10.0;
                        (p, if j % 2 == 0 { (p * rate).sin() } else { (p * rate).cos() })
                    })
                    .collect()
            } else {
                (0..length)
                    .map(|p| (p as f64, f64::from(table.data[p * d + j])))
                    .collect()
            };
            Series {
                label: format!("dimension {j}"),
                color: palette_color(i),
                width: 2.0,
                alpha: 1.0,
                points,
            }
        })
        .collect()
}

/// The table as a `[positions x dimensions]` heatmap (rows are positions).
fn table_matrix(table: &Block) -> Option<TimeMatrix> {
    let [length, d] = table.shape[..] else {
        return None;
    };
    // TimeMatrix takes [columns, rows]: transpose [L, d] to [d, L].
    let data = (0..d)
        .flat_map(|j| (0..length).map(move |p| (p, j)))
        .map(|(p, j)| table.data[p * d + j])
        .collect();
    TimeMatrix::new(&[d, length], data)
}

#[component]
pub fn AttentionPage() -> impl IntoView {
    let (initial, texts) = config_from_query(&url_state::read());
    let initial_probe = default_probe(initial.settings.task, initial.settings.digits);

    // What the worker reports.
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let history = RwSignal::new(History::new(HISTORY_CAPACITY));
    let accuracy = RwSignal::new(None::<f32>);
    let chance = RwSignal::new(None::<f32>);
    let params = RwSignal::new(None::<u64>);
    let step_ms = RwSignal::new(None::<f32>);
    let probe = RwSignal::new(Vec::<usize>::new());
    let attention = RwSignal::new(Vec::<Block>::new());
    let values = RwSignal::new(Vec::<Block>::new());
    let probabilities = RwSignal::new(Block::default());
    let positions = RwSignal::new(None::<Block>);
    let expected = RwSignal::new(None::<usize>);
    let training_error = RwSignal::new(None::<String>);
    let page_error = RwSignal::new(None::<String>);
    // The query row the visitor picked, and in which map.
    let selected = RwSignal::new(None::<(usize, usize, usize)>);

    // The settings: the last valid ones, and the fields as typed.
    let config = RwSignal::new(initial);
    let seed_text = RwSignal::new(texts.seed);
    let digits_text = RwSignal::new(texts.digits);
    let d_text = RwSignal::new(texts.d_model);
    let heads_text = RwSignal::new(texts.heads);
    let layers_text = RwSignal::new(texts.layers);
    let lr_text = RwSignal::new(texts.learning_rate);
    let batch_text = RwSignal::new(texts.batch_size);
    let probe_text = RwSignal::new(initial_probe);
    let question = RwSignal::new(0usize);
    let seed_error = Signal::derive(move || validate::seed(&seed_text.get()).err());
    let digits_error = Signal::derive(move || validate::digit_length(&digits_text.get()).err());
    let d_error = Signal::derive(move || {
        let heads = config.get().settings.heads;
        match validate::d_model(&d_text.get()) {
            Ok(d) if !d.is_multiple_of(heads) => Some(format!(
                "Model width: {d} is not a multiple of the {heads} heads; change the heads first"
            )),
            result => result.err(),
        }
    });
    let heads_error = Signal::derive(move || {
        let d = validate::d_model(&d_text.get()).unwrap_or(config.get().settings.d_model);
        validate::heads(&heads_text.get(), d).err()
    });
    let layers_error = Signal::derive(move || validate::layers(&layers_text.get()).err());
    let lr_error = Signal::derive(move || validate::learning_rate(&lr_text.get()).err());
    let batch_error = Signal::derive(move || validate::batch_size(&batch_text.get()).err());
    let probe_error =
        Signal::derive(move || parse_probe(&config.get().settings, &probe_text.get(), question.get()).err());

    let on_snapshot = move |s: Snapshot| {
        if s.fresh_run {
            history.set(History::new(HISTORY_CAPACITY));
            accuracy.set(None);
            step_ms.set(None);
            positions.set(None);
            if let Some(c) = s.metric(metrics::CHANCE) {
                chance.set(Some(c));
            }
            params.set(s.integer(integers::PARAMS));
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
        if let Some(a) = s.metric(metrics::ACCURACY) {
            accuracy.set(Some(a));
        }
        if let Some(ms) = s.metric(metrics::STEP_MS) {
            step_ms.set(Some(ms));
        }
        if let Some(t) = s.tensor(tensors::PROBE) {
            probe.set(t.data.iter().map(|&v| v as usize).collect());
            expected.set(s.integer(integers::EXPECTED).map(|v| v as usize));
            let block = |name: String| {
                s.tensor(&name).map(|t| Block {
                    shape: t.shape.clone(),
                    data: t.data.clone(),
                })
            };
            let layers: Vec<Block> = (0..).map_while(|l| block(tensors::of(tensors::ATTENTION, l))).collect();
            let layer_values: Vec<Block> = (0..).map_while(|l| block(tensors::of(tensors::VALUES, l))).collect();
            attention.set(layers);
            values.set(layer_values);
            if let Some(p) = block(tensors::PROBABILITIES.into()) {
                probabilities.set(p);
            }
        }
        if let Some(t) = s.tensor(tensors::POSITIONS) {
            positions.set(Some(Block {
                shape: t.shape.clone(),
                data: t.data.clone(),
            }));
        }
        training_error.set(s.error);
    };

    let link = spawn_lab_worker::<AttentionProtocol>(
        on_snapshot,
        |()| {},
        move || config.get_untracked(),
        running,
        page_error,
    );
    let send = move |command: Command| link.send(command);

    // The address bar always holds the settings of the current run.
    Effect::new(move |_| url_state::replace(&config_to_query(&config.get())));

    let send_probe = move || {
        let text = probe_text.get_untracked();
        if parse_probe(&config.get_untracked().settings, &text, question.get_untracked()).is_ok() {
            link.command(&LabCommand::Probe {
                text,
                question: question.get_untracked(),
            });
        }
    };
    let set_hyper = move |hyper: Hyper| {
        let old_task = config.get_untracked().settings.task;
        config.update(|c| hyper.apply(&mut c.settings));
        link.hyper(&hyper);
        let s = config.get_untracked().settings;
        // A sentence does not read as digits, nor eight digits as twelve:
        // the probe follows the task (the trainer does the same).
        if s.task != old_task || parse_probe(&s, &probe_text.get_untracked(), question.get_untracked()).is_err() {
            probe_text.set(default_probe(s.task, s.digits));
        }
        selected.set(None);
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
    let task = Signal::derive(move || config.get().settings.task);
    let positional = Signal::derive(move || config.get().settings.positional);
    let is_who = Signal::derive(move || task.get() == TaskChoice::Who);
    let tokens = Signal::derive(move || {
        let t = token_task(task.get());
        probe.with(|p| p.iter().map(|&id| t.token(id)).collect::<Vec<String>>())
    });
    let answer = Signal::derive(move || {
        probabilities.with(|p| probe.with(|ids| answer_text(task.get(), p, ids, expected.get())))
    });
    let pe_matrix = Signal::derive(move || positions.with(|p| p.as_ref().and_then(table_matrix)));
    let waves = Signal::derive(move || {
        let sinusoidal = config.get().settings.position_kind == PositionChoice::Sinusoidal;
        positions.with(|p| p.as_ref().map(|t| wave_series(t, sinusoidal)).unwrap_or_default())
    });

    let lesson = move || {
        let s = config.get().settings;
        let acc = accuracy.get()?;
        let pct = format!("{:.1}%", acc * 100.0);
        Some(match (s.task, s.positional) {
            (TaskChoice::Who, false) => format!(
                "Positional encoding is off, and held-out accuracy is {pct}. The model sees \u{201c}the dog ate \
                 the food\u{201d} and \u{201c}the food ate the dog\u{201d} as the same bag of words, so the best \
                 it can do is pick one of the two nouns: 50%. Switch it back on and press Reset."
            ),
            (TaskChoice::Who, true) => format!(
                "With positional encoding the model reads word order: held-out accuracy {pct}. Switch it off \
                 (and Reset) to see it fall to a coin toss between the two nouns."
            ),
            (_, false) => format!(
                "Positional encoding is off: every digit looks the same wherever it stands, so the model \
                 cannot say which digit goes where. Held-out accuracy {pct} (guessing: 10%)."
            ),
            (_, true) => format!("Held-out accuracy {pct}, digit by digit (guessing: 10%)."),
        })
    };

    let on_select = move |l: usize, h: usize| move |q: usize| selected.set(Some((l, h, q)));
    let maps = move || {
        let s = config.get().settings;
        (0..s.layers)
            .map(|l| {
                let heads = (0..s.heads)
                    .map(|h| {
                        let weights =
                            Signal::derive(move || attention.with(|a| a.get(l).and_then(|b| head_weights(b, h))));
                        let picked = Signal::derive(move || {
                            selected.get().and_then(|(sl, sh, q)| (sl == l && sh == h).then_some(q))
                        });
                        view! {
                            <AttentionMap
                                weights=weights
                                tokens=tokens
                                testid=format!("attention-map-{l}-{h}")
                                title=format!("Layer {}, head {}", l + 1, h + 1)
                                selected=picked
                                on_select=on_select(l, h)
                            />
                        }
                    })
                    .collect_view();
                view! {
                    <div class="attention-layer">
                        <h3>{format!("Layer {}", l + 1)}</h3>
                        <div class="attention-maps">{heads}</div>
                    </div>
                }
            })
            .collect_view()
    };

    // What the picked query gathers: its weights over the keys, and the
    // weighted sum of the values.
    let detail = move || {
        let (l, h, q) = selected.get()?;
        let weights = attention.with(|a| a.get(l).and_then(|b| head_weights(b, h)))?;
        let row = weights.row(q)?.to_vec();
        let names = tokens.get();
        let sum = values.with(|v| v.get(l).and_then(|b| gathered(&weights, b, h, q)))?;
        let max_abs = sum.iter().fold(1e-6f32, |m, v| m.max(v.abs()));
        let query = names.get(q).cloned().unwrap_or_default();
        let bars = row
            .iter()
            .enumerate()
            .map(|(j, &w)| {
                let key = names.get(j).cloned().unwrap_or_default();
                let width = format!("{:.1}%", w * 100.0);
                view! {
                    <li>
                        <span class="key">{key}</span>
                        <span class="bar"><span class="fill" style:width=width></span></span>
                        <span class="weight">{format!("{w:.2}")}</span>
                    </li>
                }
            })
            .collect_view();
        let cells = sum
            .iter()
            .map(|&v| {
                let background = css_rgb(diverging(v, max_abs));
                view! { <span class="cell" style:background=background title=format!("{v:.3}")></span> }
            })
            .collect_view();
        Some(view! {
            <div class="gather" data-testid="query-detail">
                <p>
                    <strong>{format!("\u{201c}{query}\u{201d}")}</strong>
                    {format!(" in layer {}, head {} attends to:", l + 1, h + 1)}
                </p>
                <ol class="gather-weights">{bars}</ol>
                <p class="note">
                    "and gathers \u{3a3}\u{2c7c} a\u{1d62}\u{2c7c} v\u{2c7c}, the weighted sum of the values (one cell per feature of this head; blue negative, red positive):"
                </p>
                <div class="gather-vector" role="img" aria-label=format!("{} numbers", sum.len())>{cells}</div>
            </div>
        })
    };

    let numeric_field = move |id: &'static str,
                              label: &'static str,
                              testid: &'static str,
                              text: RwSignal<String>,
                              error: Signal<Option<String>>,
                              hint: String,
                              commit: fn(&str, &AttentionSettings) -> Option<Hyper>| {
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
                inputmode="numeric"
                on_commit=on_commit
            />
        }
    };

    let on_probe_commit = move |_text: String| send_probe();
    let pick_example = move |text: &'static str| {
        probe_text.set(text.to_string());
        send_probe();
    };
    let on_question = move |key: String| {
        question.set(usize::from(key == "whom"));
        send_probe();
    };

    view! {
        <article class="page lab" data-testid="attention">
            <header class="lab-header">
                <p class="eyebrow">"Lab \u{b7} live"</p>
                <h1>"Attention: a small Transformer"</h1>
                <p class="lede">
                    "\u{201c}The dog ate the food\u{201d} and \u{201c}the food ate the dog\u{201d} hold the same \
                     words and mean different things; \u{201c}the food was eaten by the dog\u{201d} turns them \
                     round again. Train a Transformer to answer who did what, watch each attention head learn \
                     where to look, then switch off positional encoding and see it lose the plot."
                </p>
            </header>
            <ErrorBanner error=banner />
            <div class="lab-layout attention-layout">
                <section class="panel controls-panel" aria-labelledby="controls-title">
                    <h2 id="controls-title">"Train"</h2>
                    <LabTrainControls send=send running=running step=step loss=loss seed_text=seed_text seed_error=seed_error seed=current_seed set_seed=set_seed page_error=page_error />
                    <WeightsControls on_export=move |_| send(Command::ExportWeights) on_import=import_weights />
                    <SpeedField speed=Signal::derive(move || config.get().speed) set_speed=set_speed />
                    <h2>"Task and model"</h2>
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
                        <Show when=move || !is_who.get()>
                            {numeric_field(
                                "digits",
                                "Digits",
                                "digits-input",
                                digits_text,
                                digits_error,
                                validate::range_hint(limits::DIGIT_LENGTH),
                                |t, s| validate::digit_length(t).ok().filter(|v| *v != s.digits).map(Hyper::Digits),
                            )}
                        </Show>
                        <div class="field checkbox">
                            <label>
                                <input
                                    type="checkbox"
                                    data-testid="pe-toggle"
                                    prop:checked=move || config.get().settings.positional
                                    on:change=move |ev| set_hyper(Hyper::Positional(event_target_checked(&ev)))
                                />
                                " Positional encoding"
                            </label>
                        </div>
                        <SelectField
                            id="pe-kind"
                            label="Positions"
                            testid="pe-kind"
                            options=PositionChoice::options()
                            value=Signal::derive(move || config.get().settings.position_kind.key())
                            on_change=move |key: String| {
                                if let Some(k) = PositionChoice::from_key(&key) {
                                    set_hyper(Hyper::PositionKind(k));
                                }
                            }
                        />
                        {numeric_field(
                            "d-model",
                            "Model width d",
                            "d-model",
                            d_text,
                            d_error,
                            validate::range_hint(limits::D_MODEL),
                            |t, s| validate::d_model(t).ok().filter(|v| *v != s.d_model && v.is_multiple_of(s.heads)).map(Hyper::DModel),
                        )}
                        {numeric_field(
                            "heads",
                            "Heads",
                            "heads",
                            heads_text,
                            heads_error,
                            "1 to 8; must divide the width".into(),
                            |t, s| validate::heads(t, s.d_model).ok().filter(|v| *v != s.heads).map(Hyper::Heads),
                        )}
                        {numeric_field(
                            "layers",
                            "Layers",
                            "layers",
                            layers_text,
                            layers_error,
                            validate::range_hint(limits::LAYERS),
                            |t, s| validate::layers(t).ok().filter(|v| *v != s.layers).map(Hyper::Layers),
                        )}
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
                            hint="Greater than 0; 0.001 to 0.01 works well with Adam"
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
                        "Changing the task, positions or sizes starts a new run; the learning rate, batch size, \
                         optimizer and speed change on the fly. The width must be a multiple of the heads: each \
                         head works on width / heads features."
                    </p>
                </section>
                <section class="panel model-panel" aria-labelledby="model-title">
                    <h2 id="model-title">"How well it reads"</h2>
                    <div class="stats-row">
                        <Stat
                            label="Held-out accuracy"
                            testid="seq-accuracy"
                            value=Signal::derive(move || accuracy.get().map(|a| a.to_string()).unwrap_or_default())
                            display=Signal::derive(move || {
                                accuracy.get().map(|a| format!("{:.1}%", a * 100.0)).unwrap_or_else(|| "\u{2013}".into())
                            })
                        />
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
                            display=Signal::derive(move || step_ms.get().map(|m| format!("{m:.1} ms")).unwrap_or_else(|| "\u{2013}".into()))
                        />
                    </div>
                    <p class="lesson" data-testid="lesson" class:warn=move || !positional.get()>{lesson}</p>
                    <p class="note">
                        {move || chance.get().map(|c| format!(
                            "Accuracy on {HELD_OUT} held-out examples; a model blind to word order scores about {:.0}%.",
                            c * 100.0
                        ))}
                    </p>
                    <LineChart
                        series=loss_lines
                        testid="loss-chart"
                        title="Training loss (cross-entropy) by step"
                        empty_text="Press Start to train"
                        x_label="step"
                        y_label="loss"
                    />
                </section>
                <section class="panel attention-panel" aria-labelledby="attention-title">
                    <h2 id="attention-title">"Every head's attention"</h2>
                    <div class="probe-row">
                        <Show
                            when=move || is_who.get()
                            fallback=move || view! {
                                <TextField
                                    id="probe"
                                    label="Digits"
                                    testid="sentence-input"
                                    value=probe_text
                                    error=probe_error
                                    hint="Press Enter to trace them through the model"
                                    inputmode="numeric"
                                    on_commit=on_probe_commit
                                />
                            }
                        >
                            <TextField
                                id="probe"
                                label="Sentence"
                                testid="sentence-input"
                                value=probe_text
                                error=probe_error
                                hint="Press Enter to trace it through the model"
                                inputmode="text"
                                on_commit=on_probe_commit
                            />
                        </Show>
                        <Show when=move || is_who.get()>
                            <SelectField
                                id="question"
                                label="Question"
                                testid="question-select"
                                options=QUESTIONS.to_vec()
                                value=Signal::derive(move || QUESTIONS[question.get()].0)
                                on_change=on_question
                            />
                        </Show>
                    </div>
                    <Show when=move || is_who.get()>
                        <div class="examples" role="group" aria-label="Example sentences">
                            {EXAMPLES
                                .iter()
                                .map(|&text| view! {
                                    <button type="button" class="chip" on:click=move |_| pick_example(text)>{text}</button>
                                })
                                .collect_view()}
                        </div>
                    </Show>
                    <p class="answer" data-testid="model-answer" aria-live="polite">{answer}</p>
                    <div class="qkv">
                        <p>
                            "Each token's vector is projected three ways: a "<strong>"query"</strong>
                            " (what it looks for), a "<strong>"key"</strong>" (what it offers to be found by) and a "
                            <strong>"value"</strong>" (what it hands over). Row i of a map is how much token i's \
                             query matches every key, and token i gathers those values in that proportion."
                        </p>
                        <p class="formula"><code>"Attention(Q, K, V) = softmax(Q K\u{1d40} / \u{221a}d\u{2096}) V"</code></p>
                    </div>
                    <div class="attention-grid">{maps}</div>
                    <p class="note">"Click a row (or focus a map and use the arrow keys) to see what that token gathers."</p>
                    {detail}
                </section>
                <section class="panel pe-panel" aria-labelledby="pe-title">
                    <h2 id="pe-title">"Positional encoding"</h2>
                    <Show
                        when=move || positional.get()
                        fallback=|| view! {
                            <p class="lesson warn">
                                "Off. Self-attention on its own treats the input as a set: shuffle the words and \
                                 each one's output only moves with it. Nothing tells the model which noun came first."
                            </p>
                        }
                    >
                        <TimeHeatmap
                            matrix=pe_matrix
                            scale=TimeScale::Signed
                            testid="pe-heatmap"
                            label="Position (row) \u{d7} dimension (column): added to each token's embedding"
                            axes=("position", "dimension")
                        />
                        <LineChart
                            series=waves
                            testid="pe-waves"
                            title="A few dimensions over the positions"
                            x_label="position"
                            y_label="value"
                        />
                        <p class="explain">
                            "PE(p, 2i) = sin(p / 10000^(2i/d)) and PE(p, 2i+1) = cos(the same): each pair of \
                             dimensions is a clock at its own speed, fast on the left and slow on the right, so \
                             every position gets a pattern of its own and a fixed offset is the same rotation \
                             everywhere. A learned table starts random and finds its own patterns."
                        </p>
                    </Show>
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
        let config = AttentionConfig {
            settings: AttentionSettings {
                task: TaskChoice::Sort,
                digits: 6,
                positional: true,
                position_kind: PositionChoice::Learned,
                d_model: 48,
                heads: 3,
                layers: 1,
                optimizer: OptimizerChoice::Sgd,
                learning_rate: 0.05,
                batch_size: 16,
            },
            seed: 42,
            speed: SpeedChoice::Slow,
        };
        let query = url_state::encode_query(&config_to_query(&config));
        let (parsed, texts) = config_from_query(&pairs(&query));
        assert_eq!(parsed, config);
        assert_eq!(texts, FieldTexts::of(&config));
        let (off, _) = config_from_query(&pairs("pe=off"));
        assert!(!off.settings.positional);
    }

    #[test]
    fn bad_query_values_fall_back_but_stay_in_their_fields() {
        let (config, texts) = config_from_query(&pairs("layers=9&d=1000&heads=3&task=nope"));
        assert_eq!(config, default_config());
        assert_eq!(
            (texts.layers.as_str(), texts.d_model.as_str(), texts.heads.as_str()),
            ("9", "1000", "3")
        );
        // A width the default heads do not divide falls back to one head.
        let (odd, _) = config_from_query(&pairs("d=30"));
        assert_eq!((odd.settings.d_model, odd.settings.heads), (30, 1));
    }

    #[test]
    fn a_query_gathers_the_weighted_sum_of_the_values() {
        // One head, two keys; values [L = 2, D = 2].
        let weights = AttentionWeights::new(&[2, 2], vec![0.25, 0.75, 1.0, 0.0]).unwrap();
        let values = Block {
            shape: vec![1, 2, 2],
            data: vec![1.0, 2.0, 3.0, 4.0],
        };
        assert_eq!(gathered(&weights, &values, 0, 0), Some(vec![2.5, 3.5]));
        assert_eq!(gathered(&weights, &values, 0, 1), Some(vec![1.0, 2.0]));
        assert_eq!(gathered(&weights, &values, 1, 0), None, "no second head");
        let block = Block {
            shape: vec![2, 2, 2],
            data: vec![1.0, 0.0, 0.0, 1.0, 0.5, 0.5, 0.5, 0.5],
        };
        assert_eq!(head_weights(&block, 1).unwrap().row(0), Some(&[0.5, 0.5][..]));
        assert!(head_weights(&block, 2).is_none());
    }

    #[test]
    fn answers_read_as_words_and_digits() {
        let mut p = vec![0.0; 10];
        p[1] = 0.9;
        let probs = Block {
            shape: vec![10],
            data: p,
        };
        let cat = answer_text(TaskChoice::Who, &probs, &[], Some(1));
        assert_eq!(cat, "The model answers \u{201c}cat\u{201d} (90%) \u{2014} right.");
        assert!(answer_text(TaskChoice::Who, &probs, &[], Some(0)).contains("wrong: it is dog"));
        // Reverse "12": the model writes 2 then 2.
        let mut rows = vec![0.0; 20];
        rows[2] = 1.0;
        rows[12] = 1.0;
        let rows = Block {
            shape: vec![2, 10],
            data: rows,
        };
        assert_eq!(
            answer_text(TaskChoice::Reverse, &rows, &[1, 2], None),
            "The model writes 22 (the answer is 21): 1 of 2 digits right."
        );
    }

    #[test]
    fn the_table_becomes_a_position_by_dimension_map_and_waves() {
        let table = Block {
            shape: vec![3, 4],
            data: (0..12).map(|v| v as f32).collect(),
        };
        let m = table_matrix(&table).unwrap();
        // Rows are positions, columns dimensions.
        assert_eq!((m.units, m.steps), (3, 4));
        assert_eq!(m.at(2, 1), Some(9.0));
        let waves = wave_series(&table, false);
        assert_eq!(waves[0].points, vec![(0.0, 0.0), (1.0, 4.0), (2.0, 8.0)]);
        let smooth = wave_series(&table, true);
        assert_eq!(smooth[0].points.len(), 21);
        assert!((smooth[0].points[10].1 - 1f64.sin()).abs() < 1e-9);
    }
}
