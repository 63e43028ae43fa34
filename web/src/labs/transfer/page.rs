//! `/transfer`: the CNN pretrained on digits 0-4 learns new classes from a
//! few examples beside the same network from scratch. The visitor chooses
//! the task (digits 5-9, or classes they draw or upload), the examples per
//! class and which conv layers stay frozen, and sees both held-out
//! accuracies, the first layer's kernels before and after, and how far each
//! layer moved.

use leptos::prelude::*;

use super::protocol::{
    metrics, tensors, Command as LabCommand, DrawnClass, Hyper, Reply, TaskChoice, TransferProtocol, TransferSettings,
    CONV_LAYERS, DEFAULT_SEED, MAX_CLASSES, MAX_EXAMPLES_PER_CLASS, MAX_NAME_CHARS, MIN_CLASSES, PER_CLASS_CHOICES,
};
use crate::components::{
    append_named, download, named_loss_series, read_chosen_file, take_chosen_file, DrawPad, ErrorBanner, History, ImageGrid, LineChart, SelectField, Series,
    Stat, TextField, WeightsControls,
};
use crate::draw::{ink_image, RgbaImage};
use crate::labs::cnn::page::kernel_tiles;
use crate::pages::lab_controls::{spawn_lab_worker, LabTrainControls, SpeedField};
use crate::url_state;
use crate::validate;
use crate::worker::protocol::{Command, NamedTensor, Run, Snapshot, SpeedChoice};

/// A Transfer run: its settings, seed and speed.
pub type TransferConfig = Run<TransferSettings>;

fn default_config() -> TransferConfig {
    Run {
        settings: TransferSettings::default(),
        seed: DEFAULT_SEED,
        speed: SpeedChoice::Full,
    }
}

/// Points kept of each loss curve.
const HISTORY_CAPACITY: usize = 600;
/// Held-out measurements kept for the accuracy chart.
const ACCURACY_POINTS: usize = 400;
/// Where the page keeps the visitor's classes between visits.
const STORAGE_KEY: &str = "deepplay.transfer.classes";
/// The two networks' colours, in every chart and caption.
const FINETUNE_COLOR: [u8; 3] = [0, 114, 178];
const SCRATCH_COLOR: [u8; 3] = [213, 94, 0];

/// The text of each field, as typed (possibly invalid).
#[derive(Clone, Debug, PartialEq)]
pub struct FieldTexts {
    pub seed: String,
    pub learning_rate: String,
    pub batch_size: String,
}

impl FieldTexts {
    pub fn of(config: &TransferConfig) -> Self {
        Self {
            seed: config.seed.to_string(),
            learning_rate: config.settings.learning_rate.to_string(),
            batch_size: config.settings.batch_size.to_string(),
        }
    }
}

/// Reads a config from URL query pairs; invalid values fall back to the
/// defaults and stay in their fields, refused there. The visitor's drawings
/// are not in the URL (they are kept in the browser and can be exported).
pub fn config_from_query(pairs: &[(String, String)]) -> (TransferConfig, FieldTexts) {
    let mut config = default_config();
    let mut texts = FieldTexts::of(&config);
    let get = |key| url_state::get(pairs, key);
    let s = &mut config.settings;
    if let Some(v) = get("task").and_then(TaskChoice::from_key) {
        s.task = v;
    }
    if let Some(v) = get("n")
        .and_then(|t| t.parse::<usize>().ok())
        .filter(|n| PER_CLASS_CHOICES.contains(n))
    {
        s.per_class = v;
    }
    for layer in 0..CONV_LAYERS {
        match get(["f0", "f1"][layer]) {
            Some("1") => s.frozen[layer] = true,
            Some("0") => s.frozen[layer] = false,
            _ => {}
        }
    }
    if let Some(v) = get("aug") {
        s.augment = v == "1";
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
    if let Some(speed) = get("speed").and_then(SpeedChoice::from_key) {
        config.speed = speed;
    }
    if let Some(text) = get("seed") {
        texts.seed = text.to_string();
        if let Ok(v) = validate::seed(text) {
            config.seed = v;
        }
    }
    (config, texts)
}

/// The URL query that reproduces `config` (but for the visitor's drawings).
pub fn config_to_query(config: &TransferConfig) -> Vec<(&'static str, String)> {
    let s = &config.settings;
    let flag = |b: bool| if b { "1" } else { "0" }.to_string();
    vec![
        ("task", s.task.key().to_string()),
        ("n", s.per_class.to_string()),
        ("f0", flag(s.frozen[0])),
        ("f1", flag(s.frozen[1])),
        ("lr", s.learning_rate.to_string()),
        ("batch", s.batch_size.to_string()),
        ("aug", flag(s.augment)),
        ("seed", config.seed.to_string()),
        ("speed", config.speed.key().to_string()),
    ]
}

/// Three empty classes to start from.
pub fn starter_classes() -> Vec<DrawnClass> {
    ["A", "B", "C"]
        .into_iter()
        .map(|name| DrawnClass {
            name: name.into(),
            examples: Vec::new(),
        })
        .collect()
}

/// The classes as text for the browser's storage: postcard bytes in hex.
pub fn classes_to_text(classes: &[DrawnClass]) -> String {
    crate::worker::protocol::encode(&classes.to_vec())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The classes back from [`classes_to_text`]; None for anything else.
pub fn classes_from_text(text: &str) -> Option<Vec<DrawnClass>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> = (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect();
    let classes: Vec<DrawnClass> = crate::worker::protocol::decode(&bytes?, "classes").ok()?;
    let fits = classes.len() <= MAX_CLASSES
        && classes
            .iter()
            .all(|c| c.examples.len() <= MAX_EXAMPLES_PER_CLASS && c.examples.iter().all(|e| e.len() == 784));
    fits.then_some(classes)
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn load_classes() -> Vec<DrawnClass> {
    storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|t| classes_from_text(&t))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(starter_classes)
}

fn save_classes(classes: &[DrawnClass]) {
    if let Some(s) = storage() {
        // A full storage only means the drawings are not kept for next time.
        let _ = s.set_item(STORAGE_KEY, &classes_to_text(classes));
    }
}

/// What the page says the comparison shows, from the measured numbers.
pub fn lesson(
    finetune: f32,
    scratch: f32,
    step: u64,
    train: u64,
    heldout: u64,
    frozen: [bool; CONV_LAYERS],
    task: TaskChoice,
) -> String {
    let pct = |v: f32| format!("{:.0}%", 100.0 * v);
    let what = match task {
        TaskChoice::Digits => "held-out digits",
        TaskChoice::Drawn => "held-out drawings",
    };
    if step == 0 {
        return format!(
            "Before training, both networks guess: the fine-tuned one gets {} of the {heldout} {what} right and the \
             one from scratch {} (they share the same new, untrained head). Press Start: both train on the same \
             {train} examples in the same order.",
            pct(finetune),
            pct(scratch)
        );
    }
    let kept = match frozen {
        [true, true] => "both conv layers kept exactly as pretrained, so only the new head learned",
        [true, false] => "the first conv layer kept as pretrained",
        [false, true] => "the second conv layer kept as pretrained",
        [false, false] => "every layer starting from the pretrained weights and free to change",
    };
    let lead = 100.0 * (finetune - scratch);
    if lead >= 1.0 {
        format!(
            "After {step} steps on {train} examples, the pretrained network fine-tuned ({kept}) gets {} of the \
             {heldout} {what} right; the same network from scratch gets {}: {lead:.0} points behind. Pretraining on \
             digits 0-4 taught the conv layers strokes, curves and corners, which new shapes are made of too; from \
             scratch, the network has to find them in {train} examples alone. The fewer the examples, the wider \
             the gap.",
            pct(finetune),
            pct(scratch)
        )
    } else if lead <= -1.0 {
        format!(
            "After {step} steps the network from scratch leads: {} against {} for the fine-tuned one ({kept}) on \
             {heldout} {what}. Pretrained features help when the new task looks like the old one and examples are \
             few; with many examples, or shapes unlike digits, learning from scratch catches up.",
            pct(scratch),
            pct(finetune)
        )
    } else {
        format!(
            "After {step} steps the two are level: {} fine-tuned ({kept}), {} from scratch, on {heldout} {what}. \
             With enough examples a network from scratch catches up; pretraining matters most when examples are few.",
            pct(finetune),
            pct(scratch)
        )
    }
}

/// How far a layer moved, for the table: "0% (frozen)", "12.3%".
pub fn change_text(change: Option<f32>, frozen: bool) -> String {
    match change {
        Some(c) if frozen && c == 0.0 => "0% \u{b7} frozen".into(),
        Some(c) => format!("{:.1}%", 100.0 * c),
        None => "\u{2013}".into(),
    }
}

fn argmax(p: &[f32]) -> Option<usize> {
    (0..p.len())
        .filter(|&i| p[i].is_finite())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]))
}

/// One drawing of a class, small, as a button that removes it.
#[component]
fn Thumb(image: Vec<u8>, label: String, testid: String, #[prop(into)] on_remove: Callback<()>) -> impl IntoView {
    let canvas = NodeRef::<leptos::html::Canvas>::new();
    Effect::new(move |_| {
        let Some(c) = canvas.get() else { return };
        let ink: Vec<f32> = image.iter().map(|&p| f32::from(p) / 255.0).collect();
        if let Some(ctx) = crate::components::canvas::prepare(&c, 40.0, 40.0) {
            crate::components::canvas::draw_image(&ctx, &ink_image(&ink, 28, 28), (0.0, 0.0, 40.0, 40.0), true);
        }
    });
    view! {
        <button type="button" class="thumb" data-testid=testid aria-label=label.clone() title=label on:click=move |_| on_remove.run(())>
            <canvas node_ref=canvas aria-hidden="true"></canvas>
            <span class="thumb-x" aria-hidden="true">"\u{d7}"</span>
        </button>
    }
}

#[component]
pub fn TransferPage() -> impl IntoView {
    let (mut initial, texts) = config_from_query(&url_state::read());
    initial.settings.drawn = load_classes();

    // What the worker reports.
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let histories = RwSignal::new(Vec::<(String, History)>::new());
    let accuracy_points = RwSignal::new(Vec::<(u64, f32, f32)>::new());
    let accuracies = RwSignal::new(None::<(f32, f32, u64)>);
    let sizes = RwSignal::new((0u64, 0u64, 0u64));
    let pretrained_accuracy = RwSignal::new(None::<f32>);
    let kernels = RwSignal::new([None::<NamedTensor>, None, None]);
    let changes = RwSignal::new([Vec::<f32>::new(), Vec::new()]);
    let gallery = RwSignal::new(Vec::<(String, RgbaImage)>::new());
    let prediction = RwSignal::new(None::<(Vec<f32>, Vec<f32>)>);
    let status = RwSignal::new(Some("Starting the training worker\u{2026}".to_string()));
    let training_error = RwSignal::new(None::<String>);
    let page_error = RwSignal::new(None::<String>);

    // The settings: the last valid ones, and the fields as typed.
    let config = RwSignal::new(initial);
    // The visitor's classes are the settings' (one copy): kept in the
    // browser whenever they change.
    let classes = Memo::new(move |_| config.with(|c| c.settings.drawn.clone()));
    Effect::new(move |_| classes.with(|c| save_classes(c)));
    // Classes read from a file, until they are sent to the worker.
    let imported = RwSignal::new(None::<Vec<DrawnClass>>);
    let seed_text = RwSignal::new(texts.seed);
    let lr_text = RwSignal::new(texts.learning_rate);
    let batch_text = RwSignal::new(texts.batch_size);
    let seed_error = Signal::derive(move || validate::seed(&seed_text.get()).err());
    let lr_error = Signal::derive(move || validate::learning_rate(&lr_text.get()).err());
    let batch_error = Signal::derive(move || validate::batch_size(&batch_text.get()).err());

    let ink = RwSignal::new(None::<Vec<f32>>);
    let target_class = RwSignal::new(0usize);
    let clear_pad = RwSignal::new(0u64);

    let class_names = move || -> Vec<String> {
        match config.get().settings.task {
            TaskChoice::Digits => (5..10).map(|d: u8| d.to_string()).collect(),
            TaskChoice::Drawn => classes.get().iter().map(|c| c.name.clone()).collect(),
        }
    };

    let on_snapshot = move |s: Snapshot| {
        if s.fresh_run {
            histories.set(Vec::new());
            accuracy_points.set(Vec::new());
            accuracies.set(None);
            prediction.set(None);
            if let Some(t) = s.tensor(tensors::CONV1_PRETRAINED) {
                kernels.update(|k| k[0] = Some(t.clone()));
            }
            let names: Vec<String> = class_names();
            let images = match (s.tensor(tensors::EXAMPLES), s.tensor(tensors::EXAMPLE_LABELS)) {
                (Some(images), Some(labels)) => images
                    .data
                    .chunks_exact(784)
                    .zip(&labels.data)
                    .map(|(image, &label)| {
                        let name = names.get(label as usize).cloned().unwrap_or_default();
                        (name, ink_image(image, 28, 28))
                    })
                    .collect(),
                _ => Vec::new(),
            };
            gallery.set(images);
        }
        status.set(s.status.as_ref().map(|st| st.text.clone()));
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
        sizes.set((
            s.integer(metrics::TRAIN_SIZE).unwrap_or(0),
            s.integer(metrics::HELDOUT_SIZE).unwrap_or(0),
            s.integer(metrics::BATCH).unwrap_or(0),
        ));
        pretrained_accuracy.set(s.metric(metrics::PRETRAINED_ACCURACY));
        if let (Some(f), Some(sc), Some(at)) = (
            s.metric(metrics::FINETUNE_ACCURACY),
            s.metric(metrics::SCRATCH_ACCURACY),
            s.integer(metrics::EVAL_STEP),
        ) {
            if accuracies.get_untracked() != Some((f, sc, at)) {
                accuracies.set(Some((f, sc, at)));
                accuracy_points.update(|p| {
                    if p.last().is_none_or(|last| last.0 != at) {
                        p.push((at, f, sc));
                        if p.len() > ACCURACY_POINTS {
                            // Keep the first point and every other one after it.
                            let kept: Vec<_> = p.iter().copied().enumerate().filter(|(i, _)| i % 2 == 0).map(|(_, v)| v).collect();
                            *p = kept;
                        }
                    }
                });
            }
        }
        if let Some(t) = s.tensor(tensors::CONV1_FINETUNE) {
            kernels.update(|k| k[1] = Some(t.clone()));
        }
        if let Some(t) = s.tensor(tensors::CONV1_SCRATCH) {
            kernels.update(|k| k[2] = Some(t.clone()));
        }
        if let (Some(f), Some(sc)) = (s.tensor(tensors::CHANGE_FINETUNE), s.tensor(tensors::CHANGE_SCRATCH)) {
            changes.set([f.data.clone(), sc.data.clone()]);
        }
        training_error.set(s.error);
    };

    let on_reply = move |reply: Reply| match reply {
        Reply::Prediction { finetune, scratch } => prediction.set(Some((finetune, scratch))),
        Reply::ExamplesFile { bytes } => {
            if let Err(message) = download("deepplay-examples.safetensors", &bytes) {
                page_error.set(Some(message));
            }
        }
        Reply::Examples { classes: loaded } => imported.set(Some(loaded)),
    };

    let link = spawn_lab_worker::<TransferProtocol>(on_snapshot, on_reply, move || config.get_untracked(), running, page_error);
    let send = move |command: Command| link.send(command);

    // The address bar always holds the settings of the current run.
    Effect::new(move |_| url_state::replace(&config_to_query(&config.get())));

    let set_hyper = move |hyper: Hyper| {
        page_error.set(None);
        config.update(|c| hyper.apply(&mut c.settings));
        link.hyper(&hyper);
    };
    // Imported classes replace the visitor's and become the task.
    Effect::new(move |_| {
        if let Some(loaded) = imported.get() {
            target_class.set(0);
            set_hyper(Hyper::Classes(loaded));
            if config.with_untracked(|c| c.settings.task) != TaskChoice::Drawn {
                set_hyper(Hyper::Task(TaskChoice::Drawn));
            }
        }
    });
    // Every edit of the classes starts a new run with them.
    let edit_classes = move |edit: &dyn Fn(&mut Vec<DrawnClass>)| {
        let mut next = classes.get_untracked();
        edit(&mut next);
        set_hyper(Hyper::Classes(next));
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

    let task = Signal::derive(move || config.get().settings.task);
    let drawn_task = move || task.get() == TaskChoice::Drawn;
    let banner = Signal::derive(move || page_error.get().or_else(|| training_error.get()));
    let loss_lines = Signal::derive(move || histories.with(|h| named_loss_series(h)));
    let accuracy_lines = Signal::derive(move || {
        accuracy_points.with(|p| {
            let line = |label: &str, color, pick: fn(&(u64, f32, f32)) -> f32| Series {
                label: label.into(),
                color,
                width: 2.0,
                alpha: 1.0,
                points: p.iter().map(|v| (v.0 as f64, f64::from(pick(v)))).collect(),
            };
            if p.is_empty() {
                return Vec::new();
            }
            vec![
                line("fine-tuned", FINETUNE_COLOR, |v| v.1),
                line("from scratch", SCRATCH_COLOR, |v| v.2),
            ]
        })
    });
    let kernel_images = move |i: usize| Signal::derive(move || kernels.with(|k| k[i].as_ref().map(kernel_tiles).unwrap_or_default()));
    let lesson_text = move || {
        let (f, s, at) = accuracies.get()?;
        let (train, heldout, _) = sizes.get();
        let settings = config.get().settings;
        Some(lesson(f, s, at, train, heldout, settings.frozen, settings.task))
    };
    let accuracy_stat = move |pick: fn((f32, f32, u64)) -> f32| {
        (
            Signal::derive(move || accuracies.get().map(|a| pick(a).to_string()).unwrap_or_default()),
            Signal::derive(move || {
                accuracies
                    .get()
                    .map(|a| format!("{:.1}%", 100.0 * pick(a)))
                    .unwrap_or_else(|| "\u{2013}".into())
            }),
        )
    };
    let (finetune_value, finetune_display) = accuracy_stat(|a| a.0);
    let (scratch_value, scratch_display) = accuracy_stat(|a| a.1);

    let on_ink = move |drawing: Option<Vec<f32>>| {
        ink.set(drawing.clone());
        match drawing {
            Some(pixels) => link.command(&LabCommand::Classify { ink: pixels }),
            None => prediction.set(None),
        }
    };
    let add_example = move |pixels: Vec<f32>| {
        let bytes: Vec<u8> = pixels.iter().map(|v| (v.clamp(0.0, 1.0) * 255.0).round() as u8).collect();
        let target = target_class.get_untracked();
        let full = classes.with_untracked(|c| c.get(target).map(|c| c.examples.len() >= MAX_EXAMPLES_PER_CLASS));
        match full {
            None => page_error.set(Some("Add a class first, then draw examples of it.".into())),
            Some(true) => page_error.set(Some(format!(
                "This class already has {MAX_EXAMPLES_PER_CLASS} examples, as many as are kept: remove some first."
            ))),
            Some(false) => edit_classes(&|c: &mut Vec<DrawnClass>| c[target].examples.push(bytes.clone())),
        }
    };
    let on_add_drawing = move |_| {
        if let Some(pixels) = ink.get_untracked() {
            add_example(pixels);
            clear_pad.update(|n| *n += 1);
        }
    };
    let on_upload = move |ev: leptos::ev::Event| {
        let Some(file) = take_chosen_file(&ev) else {
            return;
        };
        page_error.set(None);
        #[cfg(target_arch = "wasm32")]
        super::upload::read_picture(file, move |result| match result {
            Ok(pixels) => add_example(pixels),
            Err(message) => page_error.set(Some(message)),
        });
        #[cfg(not(target_arch = "wasm32"))]
        let _ = file;
    };
    let on_import_examples = move |ev: leptos::ev::Event| {
        page_error.set(None);
        read_chosen_file(
            &ev,
            move |bytes| link.command(&LabCommand::ReadExamples { bytes }),
            move || page_error.set(Some("Could not read that file. Your classes are unchanged.".into())),
        );
    };

    // The class a network picks for the drawing, and its probability.
    let predicted = move |scratch: bool| {
        prediction.with(|p| {
            let probs = p.as_ref().map(|(f, s)| if scratch { s } else { f })?;
            argmax(probs).map(|i| (i, probs[i]))
        })
    };
    let prediction_text = move |who: &str, guess: Option<(usize, f32)>| {
        let names = class_names();
        match guess {
            Some((i, p)) => format!(
                "{who}: \u{201c}{}\u{201d} ({:.0}%)",
                names.get(i).cloned().unwrap_or_else(|| i.to_string()),
                100.0 * p
            ),
            None => format!("{who}: \u{2013}"),
        }
    };

    let freeze_box = move |layer: usize, label: &'static str| {
        view! {
            <div class="field checkbox">
                <label>
                    <input
                        type="checkbox"
                        data-testid=format!("freeze-{layer}")
                        prop:checked=move || config.get().settings.frozen[layer]
                        on:change=move |ev| set_hyper(Hyper::Freeze { layer, frozen: event_target_checked(&ev) })
                    />
                    {label}
                </label>
            </div>
        }
    };

    let change_row = move |layer: usize, name: &'static str| {
        let frozen = move || layer < CONV_LAYERS && config.get().settings.frozen[layer];
        view! {
            <tr class:frozen=frozen>
                <th scope="row">{name}</th>
                <td data-testid=format!("change-finetune-{layer}")>
                    {move || change_text(changes.with(|c| c[0].get(layer).copied()), frozen())}
                </td>
                <td data-testid=format!("change-scratch-{layer}")>
                    {move || change_text(changes.with(|c| c[1].get(layer).copied()), false)}
                </td>
            </tr>
        }
    };

    let class_cards = move || {
        classes
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, class)| {
                let count = class.examples.len();
                let name = class.name.clone();
                let thumbs = class
                    .examples
                    .iter()
                    .enumerate()
                    .map(|(k, image)| {
                        view! {
                            <Thumb
                                image=image.clone()
                                label=format!("Remove drawing {} of {}", k + 1, name)
                                testid=format!("example-{i}-{k}")
                                on_remove=move |_| edit_classes(&|c: &mut Vec<DrawnClass>| {
                                    if let Some(class) = c.get_mut(i) {
                                        if k < class.examples.len() {
                                            class.examples.remove(k);
                                        }
                                    }
                                })
                            />
                        }
                    })
                    .collect_view();
                let name_for_input = class.name.clone();
                view! {
                    <li class="class-card" class:target=move || target_class.get() == i data-testid=format!("class-{i}")>
                        <div class="class-head">
                            <label class="class-pick">
                                <input
                                    type="radio"
                                    name="target-class"
                                    data-testid=format!("target-class-{i}")
                                    prop:checked=move || target_class.get() == i
                                    on:change=move |_| target_class.set(i)
                                />
                                <span class="visually-hidden">{format!("Add new drawings to class {}", name_for_input)}</span>
                            </label>
                            <input
                                type="text"
                                class="class-name"
                                maxlength=MAX_NAME_CHARS.to_string()
                                aria-label=format!("Name of class {}", i + 1)
                                data-testid=format!("class-name-{i}")
                                prop:value=class.name.clone()
                                on:change=move |ev| {
                                    let text = event_target_value(&ev).trim().chars().take(MAX_NAME_CHARS).collect::<String>();
                                    let text = if text.is_empty() { format!("Class {}", i + 1) } else { text };
                                    edit_classes(&|c: &mut Vec<DrawnClass>| if let Some(class) = c.get_mut(i) { class.name = text.clone() });
                                }
                            />
                            <span class="class-count">{format!("{count} drawing{}", if count == 1 { "" } else { "s" })}</span>
                            <button
                                type="button"
                                class="button subtle"
                                data-testid=format!("remove-class-{i}")
                                aria-label=format!("Remove class {}", class.name)
                                on:click=move |_| {
                                    edit_classes(&|c: &mut Vec<DrawnClass>| { if i < c.len() { c.remove(i); } });
                                    target_class.update(|t| *t = (*t).min(classes.with_untracked(|c| c.len().saturating_sub(1))));
                                }
                            >
                                "Remove"
                            </button>
                        </div>
                        <div class="thumbs">{thumbs}</div>
                    </li>
                }
            })
            .collect_view()
    };

    let percent = |v: Option<f32>| v.map(|a| format!("{:.1}%", 100.0 * a)).unwrap_or_else(|| "\u{2013}".into());

    view! {
        <article class="page lab" data-testid="transfer">
            <header class="lab-header">
                <p class="eyebrow">"Lab \u{b7} live"</p>
                <h1>"Transfer learning: start from what a network already knows"</h1>
                <p class="lede">
                    "This network learned digits 0 to 4. Give it a new head and a few examples of classes it has \
                     never seen, digits 5 to 9 or shapes you draw: with few examples it learns them better than \
                     the same network starting from random weights, because its first layers already see strokes \
                     and curves. Choose which layers to freeze, and watch both learn side by side on the same \
                     examples."
                </p>
            </header>
            <ErrorBanner error=banner />
            <Show when=move || status.get().is_some()>
                <div class="status-line" role="status" data-testid="status">
                    <span>{move || status.get().unwrap_or_default()}</span>
                </div>
            </Show>
            <div class="lab-layout cnn-layout transfer-layout">
                <section class="panel controls-panel" aria-labelledby="transfer-controls">
                    <h2 id="transfer-controls">"Train both"</h2>
                    <LabTrainControls send=send running=running step=step loss=loss seed_text=seed_text seed_error=seed_error seed=current_seed set_seed=set_seed page_error=page_error />
                    <div class="field-grid">
                        <SelectField
                            id="task"
                            label="New classes"
                            testid="task-select"
                            options=TaskChoice::options()
                            value=Signal::derive(move || task.get().key())
                            on_change=move |key: String| {
                                if let Some(v) = TaskChoice::from_key(&key) {
                                    set_hyper(Hyper::Task(v));
                                }
                            }
                        />
                        <Show when=move || !drawn_task()>
                            <SelectField
                                id="per-class"
                                label="Examples of each digit"
                                testid="per-class-select"
                                options=vec![("1", "1"), ("5", "5"), ("10", "10"), ("50", "50")]
                                value=Signal::derive(move || match config.get().settings.per_class { 1 => "1", 5 => "5", 50 => "50", _ => "10" })
                                on_change=move |key: String| {
                                    if let Ok(n) = key.parse::<usize>() {
                                        set_hyper(Hyper::PerClass(n));
                                    }
                                }
                            />
                        </Show>
                        <TextField
                            id="lr"
                            label="Learning rate (Adam, both)"
                            testid="lr-input"
                            value=lr_text
                            error=lr_error
                            hint="Greater than 0; 0.003 works well".to_string()
                            on_commit=move |t: String| {
                                if let Ok(v) = validate::learning_rate(&t) {
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
                            inputmode="numeric"
                            hint="Batches never exceed the examples: 32 of 10 trains on all 10".to_string()
                            on_commit=move |t: String| {
                                if let Ok(v) = validate::batch_size(&t) {
                                    if v != config.get_untracked().settings.batch_size {
                                        set_hyper(Hyper::BatchSize(v));
                                    }
                                }
                            }
                        />
                        <div class="field checkbox">
                            <label>
                                <input
                                    type="checkbox"
                                    data-testid="augment-toggle"
                                    prop:checked=move || config.get().settings.augment
                                    on:change=move |ev| set_hyper(Hyper::Augment(event_target_checked(&ev)))
                                />
                                " Shift examples by up to 2 pixels (augmentation)"
                            </label>
                        </div>
                    </div>
                    <h2>"Freeze (fine-tuned network)"</h2>
                    <div class="field-grid">
                        {freeze_box(0, " conv1: 8 kernels 5x5, pretrained")}
                        {freeze_box(1, " conv2: 16 kernels 5x5x8, pretrained")}
                        <div class="field checkbox">
                            <label class="disabled">
                                <input type="checkbox" disabled=true prop:checked=false aria-describedby="head-note" />
                                " head: new, always trains"
                            </label>
                        </div>
                    </div>
                    <p class="note" id="head-note">
                        "A frozen layer keeps its pretrained weights: they enter the graph as constants and the \
                         optimizer skips them. The network from scratch trains every layer."
                    </p>
                    <WeightsControls on_export=move |_| send(Command::ExportWeights) on_import=import_weights />
                    <SpeedField speed=Signal::derive(move || config.get().speed) set_speed=set_speed />
                </section>
                <section class="panel" aria-labelledby="transfer-compare">
                    <h2 id="transfer-compare">"Fine-tuned vs from scratch"</h2>
                    <div class="stats-row">
                        <Stat label="Fine-tuned" testid="finetune-accuracy" value=finetune_value display=finetune_display />
                        <Stat label="From scratch" testid="scratch-accuracy" value=scratch_value display=scratch_display />
                        <Stat
                            label="Examples"
                            testid="train-size"
                            value=Signal::derive(move || sizes.get().0.to_string())
                            display=Signal::derive(move || { let (t, h, _) = sizes.get(); format!("{t} + {h} held out") })
                        />
                    </div>
                    <p class="lesson" data-testid="lesson" aria-live="polite">
                        {move || lesson_text().unwrap_or_else(|| "Measuring both networks on the held-out examples\u{2026}".into())}
                    </p>
                    <LineChart
                        series=accuracy_lines
                        testid="accuracy-chart"
                        title="Held-out accuracy by step: fine-tuned (blue) and from scratch (orange)"
                        empty_text="Press Start to train both networks"
                        x_label="step"
                        y_label="held-out accuracy"
                    />
                    <LineChart
                        series=loss_lines
                        testid="loss-chart"
                        title="Training loss by step, both networks"
                        empty_text="Press Start to train"
                        x_label="step"
                        y_label="loss"
                    />
                    <p class="note">
                        {move || format!(
                            "Held out: examples neither network trains on. Pretrained network: {} on the test split's digits 0-4 (the shipped file, made by make pretrain).",
                            percent(pretrained_accuracy.get())
                        )}
                    </p>
                </section>
                <section class="panel" aria-labelledby="transfer-kept">
                    <h2 id="transfer-kept">"What was kept"</h2>
                    <div class="kernel-compare">
                        <div>
                            <h3>"Pretrained conv1"</h3>
                            <ImageGrid images=kernel_images(0) testid="kernels-pretrained" label="The pretrained network's first-layer kernels: red positive, blue negative" cell=36.0 />
                        </div>
                        <div>
                            <h3>"Fine-tuned conv1 now"</h3>
                            <ImageGrid images=kernel_images(1) testid="kernels-finetune" label="The fine-tuned network's first-layer kernels now" cell=36.0 />
                        </div>
                        <div>
                            <h3>"From scratch conv1 now"</h3>
                            <ImageGrid images=kernel_images(2) testid="kernels-scratch" label="The first-layer kernels of the network from scratch now" cell=36.0 />
                        </div>
                    </div>
                    <table class="shapes layer-change" data-testid="layer-change">
                        <caption>"How far each layer moved from where it started (\u{2016}W \u{2212} W\u{2080}\u{2016} / \u{2016}W\u{2080}\u{2016})"</caption>
                        <thead>
                            <tr><th scope="col">"Layer"</th><th scope="col">"Fine-tuned"</th><th scope="col">"From scratch"</th></tr>
                        </thead>
                        <tbody>
                            {change_row(0, "conv1")}
                            {change_row(1, "conv2")}
                            {change_row(2, "head")}
                        </tbody>
                    </table>
                    <p class="explain">
                        "The fine-tuned network starts from kernels that already detect strokes and edges; frozen, \
                         they do not move at all. From scratch, kernels start as noise and must be learned from the \
                         few examples, which is why that network lags."
                    </p>
                </section>
                <section class="panel examples-panel" aria-labelledby="transfer-examples">
                    <h2 id="transfer-examples">"The examples"</h2>
                    <Show
                        when=drawn_task
                        fallback=move || view! {
                            <p class="note">{move || format!(
                                "Digits 5-9 from the training split, {} of each, picked by the seed (up to 10 of each shown). Held out: the test split's 5-9.",
                                config.get().settings.per_class
                            )}</p>
                            <ImageGrid images=Signal::derive(move || gallery.get()) testid="examples-gallery" label="The training examples, with their class" cell=44.0 />
                        }
                    >
                        <p class="note">
                            {format!(
                                "Name your classes, pick one, and draw examples of it on the pad (or upload a PNG or JPEG). \
                                 From 3 drawings on, a quarter of each class is held out to measure accuracy. Between \
                                 {MIN_CLASSES} and {MAX_CLASSES} classes, up to {MAX_EXAMPLES_PER_CLASS} drawings each; \
                                 they stay in this browser. Every change starts both networks again."
                            )}
                        </p>
                        <ul class="class-list" data-testid="class-list">{class_cards}</ul>
                        <div class="button-row">
                            <button
                                type="button"
                                class="button"
                                data-testid="add-class"
                                disabled=move || classes.with(|c| c.len() >= MAX_CLASSES)
                                on:click=move |_| {
                                    let n = classes.with_untracked(Vec::len);
                                    edit_classes(&|c: &mut Vec<DrawnClass>| c.push(DrawnClass { name: format!("Class {}", n + 1), examples: Vec::new() }));
                                    target_class.set(n);
                                }
                            >
                                "Add a class"
                            </button>
                            <label class="button file-button">
                                "Upload a picture"
                                <input type="file" accept="image/png,image/jpeg,image/*" data-testid="upload-image" class="visually-hidden" on:change=on_upload />
                            </label>
                            <button type="button" class="button" data-testid="export-examples" on:click=move |_| link.command(&LabCommand::ExportExamples)>
                                "Export examples"
                            </button>
                            <label class="button file-button">
                                "Import examples"
                                <input type="file" accept=".safetensors" data-testid="import-examples" class="visually-hidden" on:change=on_import_examples />
                            </label>
                        </div>
                    </Show>
                </section>
                <section class="panel draw-panel" aria-labelledby="transfer-draw">
                    <h2 id="transfer-draw">{move || if drawn_task() { "Draw an example, or test one" } else { "Draw a digit from 5 to 9" }}</h2>
                    <DrawPad on_ink=on_ink clear=Signal::derive(move || clear_pad.get()) label="Drawing pad: draw a shape with the mouse, a pen or a finger" />
                    <Show when=drawn_task>
                        <button
                            type="button"
                            class="button primary"
                            data-testid="add-example"
                            disabled=move || ink.with(Option::is_none) || classes.with(Vec::is_empty)
                            on:click=on_add_drawing
                        >
                            {move || {
                                let name = classes.with(|c| c.get(target_class.get()).map(|c| c.name.clone()).unwrap_or_default());
                                format!("Add to \u{201c}{name}\u{201d}")
                            }}
                        </button>
                    </Show>
                    <p
                        class="prediction"
                        data-testid="prediction"
                        data-value=move || predicted(false).map(|(i, _)| i.to_string()).unwrap_or_default()
                        aria-live="polite"
                    >
                        {move || prediction_text("Fine-tuned", predicted(false))}
                    </p>
                    <p
                        class="prediction secondary"
                        data-testid="scratch-prediction"
                        data-value=move || predicted(true).map(|(i, _)| i.to_string()).unwrap_or_default()
                    >
                        {move || prediction_text("From scratch", predicted(true))}
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
        let config = TransferConfig {
            settings: TransferSettings {
                task: TaskChoice::Drawn,
                per_class: 50,
                frozen: [false, true],
                learning_rate: 0.01,
                batch_size: 8,
                augment: true,
                drawn: Vec::new(),
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
        let (config, texts) = config_from_query(&pairs("n=7&lr=-1&batch=0&task=nope&f0=maybe&seed=x"));
        assert_eq!(config, default_config());
        assert_eq!((texts.learning_rate.as_str(), texts.batch_size.as_str()), ("-1", "0"));
        assert_eq!(texts.seed, "x");
    }

    #[test]
    fn stored_classes_round_trip_and_junk_is_ignored() {
        let classes = vec![DrawnClass {
            name: "zig".into(),
            examples: vec![vec![7; 784]; 2],
        }];
        assert_eq!(classes_from_text(&classes_to_text(&classes)), Some(classes));
        assert_eq!(classes_from_text("zz"), None);
        assert_eq!(classes_from_text("abc"), None);
        let bad = vec![DrawnClass {
            name: "short".into(),
            examples: vec![vec![0; 5]],
        }];
        assert_eq!(classes_from_text(&classes_to_text(&bad)), None);
        assert_eq!(starter_classes().len(), 3);
    }

    #[test]
    fn the_lesson_states_the_measured_numbers() {
        let text = lesson(0.92, 0.87, 300, 50, 1000, [true, true], TaskChoice::Digits);
        assert!(text.contains("92%") && text.contains("87%") && text.contains("5 points"), "{text}");
        assert!(text.contains("only the new head learned"), "{text}");
        let text = lesson(0.2, 0.21, 0, 50, 1000, [true, true], TaskChoice::Digits);
        assert!(text.starts_with("Before training"), "{text}");
        let text = lesson(0.80, 0.90, 100, 250, 1000, [false, false], TaskChoice::Drawn);
        assert!(text.contains("from scratch leads") && text.contains("held-out drawings"), "{text}");
        assert_eq!(change_text(Some(0.0), true), "0% \u{b7} frozen");
        assert_eq!(change_text(Some(0.1234), false), "12.3%");
        assert_eq!(change_text(None, false), "\u{2013}");
    }
}
