//! `/cnn`: a convolutional network learns MNIST live, and shows what it
//! learns: first- and second-layer kernels, the feature maps of a chosen
//! test digit with each cell's receptive field, a stride/padding explainer,
//! loss and test accuracy, the confusion matrix, the digits it gets wrong,
//! and a pad to draw digits on.
//!
//! The worker owns the data and the model; this page validates settings,
//! sends commands, and turns snapshots into pictures.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use deepplay_core::models::cnn::{CnnConfig, LayerShape};

use super::lab_controls::{spawn_lab_worker, LabTrainControls};
use crate::components::{
    loss_series, DrawPad, ErrorBanner, History, ImageGrid, LineChart, SelectField, Series, Stat, TextField,
    WeightsControls,
};
use crate::draw::{diverging_image, format_number, ink_image, sequential, RgbaImage};
use crate::url_state;
use crate::validate;
use crate::worker::protocol::{
    CnnSettings, Command, Hyper, NamedTensor, OptimizerChoice, PoolChoice, Snapshot, WorkerEvent,
};

const HISTORY_CAPACITY: usize = 1500;
/// Test digits the visitor can pick for the feature-map view.
const TEST_DIGITS: usize = 2000;

/// One architecture field: its key in the URL, label, bounds and getter/setter.
struct ArchField {
    key: &'static str,
    label: &'static str,
    min: u64,
    max: u64,
    get: fn(&CnnSettings) -> usize,
    set: fn(&mut CnnSettings, usize),
}

const ARCH_FIELDS: [ArchField; 7] = [
    ArchField {
        key: "c1",
        label: "Conv 1 filters",
        min: 1,
        max: 32,
        get: |s| s.conv1_filters,
        set: |s, v| s.conv1_filters = v,
    },
    ArchField {
        key: "c2",
        label: "Conv 2 filters",
        min: 1,
        max: 64,
        get: |s| s.conv2_filters,
        set: |s, v| s.conv2_filters = v,
    },
    ArchField {
        key: "k",
        label: "Kernel size",
        min: 1,
        max: 9,
        get: |s| s.kernel,
        set: |s, v| s.kernel = v,
    },
    ArchField {
        key: "s",
        label: "Stride",
        min: 1,
        max: 4,
        get: |s| s.stride,
        set: |s, v| s.stride = v,
    },
    ArchField {
        key: "p",
        label: "Padding",
        min: 0,
        max: 4,
        get: |s| s.padding,
        set: |s, v| s.padding = v,
    },
    ArchField {
        key: "p1",
        label: "Pool 1 size",
        min: 1,
        max: 4,
        get: |s| s.pool1,
        set: |s, v| s.pool1 = v,
    },
    ArchField {
        key: "p2",
        label: "Pool 2 size",
        min: 1,
        max: 4,
        get: |s| s.pool2,
        set: |s, v| s.pool2 = v,
    },
];

/// Settings from the URL query; invalid values fall back to the defaults.
pub fn settings_from_query(pairs: &[(String, String)]) -> CnnSettings {
    let mut s = CnnSettings::default();
    let get = |key| url_state::get(pairs, key);
    for field in &ARCH_FIELDS {
        if let Some(Ok(v)) = get(field.key).map(|t| validate::parse_integer(t, field.min, field.max)) {
            (field.set)(&mut s, v as usize);
        }
    }
    if s.cnn_config().layer_shapes().is_err() {
        let seed = s.seed;
        s = CnnSettings {
            seed,
            ..CnnSettings::default()
        };
    }
    if let Some(pool) = get("pool").and_then(PoolChoice::from_key) {
        s.pool = pool;
    }
    if let Some(o) = get("opt").and_then(OptimizerChoice::from_key) {
        s.optimizer = o;
    }
    if let Some(Ok(v)) = get("lr").map(learning_rate) {
        s.learning_rate = v;
    }
    if let Some(Ok(v)) = get("batch").map(validate::batch_size) {
        s.batch_size = v;
    }
    if let Some(Ok(v)) = get("seed").map(validate::seed) {
        s.seed = v;
    }
    s.augment = get("aug") == Some("1");
    s
}

pub fn settings_to_query(s: &CnnSettings) -> Vec<(&'static str, String)> {
    let mut q: Vec<(&'static str, String)> = ARCH_FIELDS.iter().map(|f| (f.key, (f.get)(s).to_string())).collect();
    q.extend([
        ("pool", s.pool.key().to_string()),
        ("opt", s.optimizer.key().to_string()),
        ("lr", s.learning_rate.to_string()),
        ("batch", s.batch_size.to_string()),
        ("aug", if s.augment { "1" } else { "0" }.to_string()),
        ("seed", s.seed.to_string()),
    ]);
    q
}

/// The CNN lab's learning rate: positive and at most 10 (the trainer's bound).
pub fn learning_rate(text: &str) -> Result<f32, String> {
    validate::parse_float(text, 0.0, true, 10.0).map_err(|e| format!("Learning rate: {e}"))
}

/// Kernels of one conv layer, `[out, in, k, k]`, as one tile per (out, in)
/// pair on a colour scale shared by the whole layer.
pub fn kernel_tiles(t: &NamedTensor) -> Vec<(String, RgbaImage)> {
    let [_, inp, kh, kw] = t.shape[..] else {
        return Vec::new();
    };
    let max_abs = t
        .data
        .iter()
        .filter(|v| v.is_finite())
        .fold(0.0f32, |m, v| m.max(v.abs()));
    t.data
        .chunks_exact(kh * kw)
        .enumerate()
        .map(|(i, k)| {
            let caption = if inp == 1 || i % inp == 0 {
                format!("{}", i / inp + 1)
            } else {
                String::new()
            };
            (caption, diverging_image(k, kw as u32, kh as u32, max_abs))
        })
        .collect()
}

/// One activation map per channel, `[C, H, W]`, on a scale shared by the layer.
fn channel_images(t: &NamedTensor) -> Vec<RgbaImage> {
    let [_, h, w] = t.shape[..] else { return Vec::new() };
    let max = t.data.iter().filter(|v| v.is_finite()).fold(0.0f32, |m, &v| m.max(v));
    t.data
        .chunks_exact(h * w)
        .map(|plane| {
            let mut image = RgbaImage::new(w as u32, h as u32);
            for (px, &v) in image.pixels.chunks_exact_mut(4).zip(plane) {
                let rgb = sequential(if max > 0.0 { v / max } else { 0.0 });
                px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
            }
            image
        })
        .collect()
}

fn argmax(p: &[f32]) -> Option<usize> {
    (0..p.len())
        .filter(|&i| p[i].is_finite())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]))
}

/// Paints an image scaled into `rect` of a 2-D context, pixels kept crisp.
fn blit(ctx: &web_sys::CanvasRenderingContext2d, image: &RgbaImage, x: f64, y: f64, size: f64) {
    crate::components::canvas::draw_image(ctx, image, (x, y, size, size), false);
}

fn context_2d(canvas: &web_sys::HtmlCanvasElement) -> Option<web_sys::CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// A hovered cell: (layer index as in `layer_shapes`, row, column).
type Hover = Option<(usize, usize, usize)>;

const TILE_GAP: f64 = 4.0;
const TILES_PER_ROW: usize = 8;

/// One layer's feature maps on one canvas; hovering reports the cell.
#[component]
fn LayerMaps(layer: usize, name: String, maps: NamedTensor, hover: RwSignal<Hover>) -> impl IntoView {
    let canvas = NodeRef::<html::Canvas>::new();
    let [channels, h, w] = maps.shape[..] else {
        return view! { <div></div> }.into_any();
    };
    let tile = if h >= 20 {
        48.0
    } else if h >= 8 {
        40.0
    } else {
        32.0
    };
    let cols = channels.min(TILES_PER_ROW);
    let rows = channels.div_ceil(TILES_PER_ROW);
    let (cw, ch) = (
        cols as f64 * (tile + TILE_GAP) - TILE_GAP,
        rows as f64 * (tile + TILE_GAP) - TILE_GAP,
    );
    let images = channel_images(&maps);
    Effect::new(move |_| {
        let Some(c) = canvas.get() else { return };
        let Some(ctx) = context_2d(&c) else { return };
        ctx.clear_rect(0.0, 0.0, cw, ch);
        for (i, image) in images.iter().enumerate() {
            blit(
                &ctx,
                image,
                (i % TILES_PER_ROW) as f64 * (tile + TILE_GAP),
                (i / TILES_PER_ROW) as f64 * (tile + TILE_GAP),
                tile,
            );
        }
        if let Some((l, y, x)) = hover.get() {
            if l == layer {
                ctx.set_stroke_style_str("#f59e0b");
                ctx.set_line_width(2.0);
                let cell = tile / w as f64;
                for i in 0..channels {
                    let (tx, ty) = (
                        (i % TILES_PER_ROW) as f64 * (tile + TILE_GAP),
                        (i / TILES_PER_ROW) as f64 * (tile + TILE_GAP),
                    );
                    ctx.stroke_rect(
                        tx + x as f64 * cell,
                        ty + y as f64 * (tile / h as f64),
                        cell,
                        tile / h as f64,
                    );
                }
            }
        }
    });
    let on_move = move |ev: web_sys::PointerEvent| {
        let Some(c) = canvas.get() else { return };
        let rect = c.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return;
        }
        let scale = cw / rect.width();
        let px = (f64::from(ev.client_x()) - rect.left()) * scale;
        let py = (f64::from(ev.client_y()) - rect.top()) * scale;
        let (col, row) = ((px / (tile + TILE_GAP)) as usize, (py / (tile + TILE_GAP)) as usize);
        let (ox, oy) = (px - col as f64 * (tile + TILE_GAP), py - row as f64 * (tile + TILE_GAP));
        if col < cols && row * TILES_PER_ROW + col < channels && ox < tile && oy < tile {
            hover.set(Some((
                layer,
                (oy / tile * h as f64) as usize,
                (ox / tile * w as f64) as usize,
            )));
        }
    };
    let title = format!("{name} \u{b7} {channels} \u{d7} {h} \u{d7} {w}");
    view! {
        <div class="layer-maps">
            <p class="layer-title">{title}</p>
            <canvas
                node_ref=canvas
                width=cw
                height=ch
                class="maps-canvas"
                style=format!("width:{cw}px;max-width:100%")
                role="img"
                aria-label=format!("Feature maps of {name}: hover a cell to see the input pixels it sees")
                on:pointermove=on_move
                on:pointerleave=move |_| hover.set(None)
            ></canvas>
        </div>
    }
    .into_any()
}

/// The chosen digit with the receptive field of the hovered cell.
#[component]
fn ProbeInput(input: RwSignal<Option<NamedTensor>>, hover: RwSignal<Hover>, config: Memo<CnnConfig>) -> impl IntoView {
    let canvas = NodeRef::<html::Canvas>::new();
    const SIZE: f64 = 140.0;
    Effect::new(move |_| {
        let Some(c) = canvas.get() else { return };
        let Some(ctx) = context_2d(&c) else { return };
        ctx.clear_rect(0.0, 0.0, SIZE, SIZE);
        input.with(|t| {
            if let Some(t) = t {
                blit(&ctx, &ink_image(&t.data, 28, 28), 0.0, 0.0, SIZE);
            }
        });
        if let Some((layer, y, x)) = hover.get() {
            let win = config.with(|c| c.receptive_field(layer, y, x));
            let px = SIZE / 28.0;
            ctx.set_fill_style_str("rgba(245, 158, 11, 0.28)");
            ctx.fill_rect(
                win.x0 as f64 * px,
                win.y0 as f64 * px,
                (win.x1 - win.x0) as f64 * px,
                (win.y1 - win.y0) as f64 * px,
            );
            ctx.set_stroke_style_str("#d97706");
            ctx.set_line_width(2.0);
            ctx.stroke_rect(
                win.x0 as f64 * px,
                win.y0 as f64 * px,
                (win.x1 - win.x0) as f64 * px,
                (win.y1 - win.y0) as f64 * px,
            );
        }
    });
    let caption = move || match hover.get() {
        Some((layer, y, x)) => {
            let win = config.with(|c| c.receptive_field(layer, y, x));
            format!(
                "Cell ({y}, {x}) sees input rows {}\u{2013}{}, columns {}\u{2013}{}",
                win.y0,
                win.y1 - 1,
                win.x0,
                win.x1 - 1
            )
        }
        None => "Hover a feature-map cell to see which input pixels it sees.".to_string(),
    };
    view! {
        <figure class="probe-input">
            <canvas node_ref=canvas width=SIZE height=SIZE data-testid="probe-input" role="img" aria-label="The chosen test digit"></canvas>
            <figcaption aria-live="polite">{caption}</figcaption>
        </figure>
    }
}

/// How kernel size, stride and padding set a convolution's output size.
#[component]
fn ConvExplainer() -> impl IntoView {
    let input = RwSignal::new(7usize);
    let kernel = RwSignal::new(3usize);
    let stride = RwSignal::new(1usize);
    let padding = RwSignal::new(1usize);
    let selected = RwSignal::new(0usize);
    let output = Signal::derive(move || {
        let (n, k, s, p) = (input.get(), kernel.get(), stride.get(), padding.get());
        (n + 2 * p >= k).then(|| (n + 2 * p - k) / s + 1)
    });
    let slider = move |label: &'static str, id: &'static str, value: RwSignal<usize>, min: usize, max: usize| {
        view! {
            <div class="field slider">
                <label for=id>{move || format!("{label}: {}", value.get())}</label>
                <input
                    id=id
                    type="range"
                    min=min
                    max=max
                    prop:value=move || value.get().to_string()
                    on:input=move |ev| {
                        if let Ok(v) = event_target_value(&ev).parse() {
                            value.set(v);
                            selected.set(0);
                        }
                    }
                />
            </div>
        }
    };
    let formula = move || {
        let (n, k, s, p) = (input.get(), kernel.get(), stride.get(), padding.get());
        match output.get() {
            Some(o) => format!("output = \u{230a}(n + 2p \u{2212} k) / s\u{230b} + 1 = \u{230a}({n} + {} \u{2212} {k}) / {s}\u{230b} + 1 = {o}", 2 * p),
            None => format!("A {k}-wide kernel does not fit {n} inputs with padding {p}: there is no output."),
        }
    };
    let cells = move || {
        let (n, k, s, p) = (input.get(), kernel.get(), stride.get(), padding.get());
        let sel = selected.get().min(output.get().unwrap_or(1).saturating_sub(1));
        let start = sel * s;
        (0..n + 2 * p)
            .map(|i| {
                let pad = i < p || i >= n + p;
                let inside = output.get().is_some() && i >= start && i < start + k;
                let class = format!(
                    "cell{}{}",
                    if pad { " pad" } else { "" },
                    if inside { " window" } else { "" }
                );
                view! { <span class=class>{if pad { "0".to_string() } else { (i - p).to_string() }}</span> }
            })
            .collect_view()
    };
    let outputs = move || {
        let sel = selected.get();
        (0..output.get().unwrap_or(0))
            .map(|o| {
                let class = if o == sel { "cell out chosen" } else { "cell out" };
                view! {
                    <button type="button" class=class aria-pressed=move || (o == sel).to_string() on:click=move |_| selected.set(o)>
                        {o.to_string()}
                    </button>
                }
            })
            .collect_view()
    };
    view! {
        <div class="explainer" data-testid="conv-explainer">
            <div class="field-grid">
                {slider("Input size n", "ex-n", input, 3, 12)}
                {slider("Kernel k", "ex-k", kernel, 1, 7)}
                {slider("Stride s", "ex-s", stride, 1, 4)}
                {slider("Padding p", "ex-p", padding, 0, 3)}
            </div>
            <p class="formula" data-testid="conv-formula">{formula}</p>
            <p class="strip-label">"Input (zeros are padding); the highlighted window feeds the chosen output:"</p>
            <div class="strip">{cells}</div>
            <p class="strip-label">"Outputs (choose one):"</p>
            <div class="strip">{outputs}</div>
        </div>
    }
}

/// The 10x10 confusion matrix on the test set as a table.
#[component]
fn ConfusionMatrix(counts: RwSignal<Option<Vec<f32>>>) -> impl IntoView {
    let body = move || {
        counts.with(|c| {
            let Some(c) = c.as_ref().filter(|c| c.len() == 100) else {
                return view! { <tr><td colspan="11" class="empty">"Train, then pause or wait for the first test pass."</td></tr> }.into_any();
            };
            (0..10)
                .map(|t| {
                    let row = &c[t * 10..t * 10 + 10];
                    let total: f32 = row.iter().sum::<f32>().max(1.0);
                    let cells = (0..10)
                        .map(|p| {
                            let share = row[p] / total;
                            let style = if p == t {
                                format!("background:rgba(39,174,96,{:.2})", 0.12 + 0.8 * share)
                            } else if row[p] > 0.0 {
                                format!("background:rgba(192,57,43,{:.2})", 0.12 + 2.5 * share.min(0.35))
                            } else {
                                String::new()
                            };
                            view! { <td style=style title=format!("true {t}, predicted {p}: {}", row[p])>{row[p].to_string()}</td> }
                        })
                        .collect_view();
                    view! { <tr><th scope="row">{t.to_string()}</th>{cells}</tr> }
                })
                .collect_view()
                .into_any()
        })
    };
    view! {
        <div class="table-scroll">
            <table class="confusion" data-testid="confusion-matrix" data-total=move || counts.with(|c| c.as_ref().map(|c| c.iter().sum::<f32>()).unwrap_or(0.0).to_string())>
                <caption>"Rows: true digit. Columns: predicted digit. Counts over the 2,000 test digits."</caption>
                <thead>
                    <tr><th scope="col">""</th>{(0..10).map(|p| view! { <th scope="col">{p.to_string()}</th> }).collect_view()}</tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[component]
pub fn CnnPage() -> impl IntoView {
    let initial = settings_from_query(&url_state::read());
    let settings = RwSignal::new(initial.clone());

    // What the worker reports.
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let steps_per_second = RwSignal::new(0.0f32);
    let test_accuracy = RwSignal::new(None::<f32>);
    let history = RwSignal::new(History::new(HISTORY_CAPACITY));
    let accuracy_history = RwSignal::new(Vec::<(f64, f64)>::new());
    let kernels1 = RwSignal::new(None::<NamedTensor>);
    let kernels2 = RwSignal::new(None::<NamedTensor>);
    let maps = RwSignal::new(Vec::<(String, NamedTensor)>::new());
    let probe_input = RwSignal::new(None::<NamedTensor>);
    let probe_label = RwSignal::new(None::<usize>);
    let probe_probs = RwSignal::new(None::<Vec<f32>>);
    let confusion = RwSignal::new(None::<Vec<f32>>);
    let mistakes = RwSignal::new(Vec::<(String, RgbaImage)>::new());
    let prediction = RwSignal::new(None::<Vec<f32>>);
    let status = RwSignal::new(Some("Starting the training worker\u{2026}".to_string()));
    let training_error = RwSignal::new(None::<String>);
    let page_error = RwSignal::new(None::<String>);
    let hover = RwSignal::new(None::<(usize, usize, usize)>);
    let probe_index = RwSignal::new(0usize);
    let kernel_layer = RwSignal::new("1".to_string());

    // Fields as typed.
    let seed_text = RwSignal::new(initial.seed.to_string());
    let lr_text = RwSignal::new(initial.learning_rate.to_string());
    let batch_text = RwSignal::new(initial.batch_size.to_string());
    let arch_texts: Vec<RwSignal<String>> = ARCH_FIELDS
        .iter()
        .map(|f| RwSignal::new((f.get)(&initial).to_string()))
        .collect();
    let seed_error = Signal::derive(move || validate::seed(&seed_text.get()).err());
    let lr_error = Signal::derive(move || learning_rate(&lr_text.get()).err());
    let batch_error = Signal::derive(move || validate::batch_size(&batch_text.get()).err());

    // The architecture as typed, checked as a whole (shapes must fit).
    let arch_texts_for_draft = arch_texts.clone();
    let draft = Memo::new(move |_| -> Result<CnnSettings, String> {
        let mut s = settings.get();
        for (field, text) in ARCH_FIELDS.iter().zip(&arch_texts_for_draft) {
            let v = validate::parse_integer(&text.get(), field.min, field.max)
                .map_err(|e| format!("{}: {e}", field.label))?;
            (field.set)(&mut s, v as usize);
        }
        s.cnn_config().layer_shapes().map_err(|e| format!("{e}"))?;
        Ok(s)
    });
    let config = Memo::new(move |_| settings.get().cnn_config());
    let shapes = Memo::new(move |_| -> Result<Vec<LayerShape>, String> {
        draft
            .get()
            .and_then(|s| s.cnn_config().layer_shapes().map_err(|e| format!("{e}")))
    });

    let on_snapshot = move |s: Snapshot| {
        if s.fresh_run {
            history.update(History::clear);
            accuracy_history.set(Vec::new());
            test_accuracy.set(None);
            confusion.set(None);
            mistakes.set(Vec::new());
        }
        status.set(s.status.clone());
        step.set(s.step);
        loss.set(s.loss);
        running.set(s.running);
        steps_per_second.set(s.steps_per_second);
        if !s.new_losses.is_empty() {
            history.update(|h| s.new_losses.iter().for_each(|&(x, y)| h.push(x as f64, f64::from(y))));
        }
        if let (Some(a), Some(at)) = (s.metric("test_accuracy"), s.metric("test_step")) {
            test_accuracy.set(Some(a));
            accuracy_history.update(|h| {
                if h.last().is_none_or(|&(x, _)| x < f64::from(at)) {
                    h.push((f64::from(at), f64::from(a)));
                }
            });
        }
        if let Some(t) = s.tensor("conv1.weight") {
            kernels1.set(Some(t.clone()));
        }
        if let Some(t) = s.tensor("conv2.weight") {
            kernels2.set(Some(t.clone()));
        }
        let new_maps: Vec<(String, NamedTensor)> = ["conv1", "pool1", "conv2", "pool2"]
            .iter()
            .filter_map(|n| s.tensor(n).map(|t| (n.to_string(), t.clone())))
            .collect();
        if !new_maps.is_empty() {
            maps.set(new_maps);
        }
        if let Some(t) = s.tensor("probe.input") {
            probe_input.set(Some(t.clone()));
        }
        if let Some(l) = s.metric("probe_label") {
            probe_label.set(Some(l as usize));
        }
        if let Some(t) = s.tensor("probe.probs") {
            probe_probs.set(Some(t.data.clone()));
        }
        if let Some(t) = s.tensor("confusion") {
            confusion.set(Some(t.data.clone()));
        }
        if let (Some(images), Some(pred), Some(truth)) = (
            s.tensor("mistakes"),
            s.tensor("mistakes.predicted"),
            s.tensor("mistakes.true"),
        ) {
            mistakes.set(
                images
                    .data
                    .chunks_exact(784)
                    .zip(pred.data.iter().zip(&truth.data))
                    .map(|(img, (&p, &t))| {
                        (
                            format!("{} \u{2192} {}", t as usize, p as usize),
                            ink_image(img, 28, 28),
                        )
                    })
                    .collect(),
            );
        }
        training_error.set(s.error);
    };

    let send = spawn_lab_worker(
        move |event| match event {
            WorkerEvent::Snapshot(s) => on_snapshot(s),
            WorkerEvent::Prediction { probabilities } => prediction.set(Some(probabilities)),
            WorkerEvent::Ready | WorkerEvent::Weights { .. } => {}
        },
        move || Command::ConfigureCnn(settings.get_untracked()),
        running,
        page_error,
    );
    Effect::new(move |_| url_state::replace(&settings_to_query(&settings.get())));

    let set_hyper = move |hyper: Hyper| {
        settings.update(|s| match &hyper {
            Hyper::LearningRate(v) => s.learning_rate = *v,
            Hyper::BatchSize(v) => s.batch_size = *v,
            Hyper::Optimizer(v) => s.optimizer = *v,
            _ => {}
        });
        send(Command::SetHyper(hyper));
    };
    let rebuild = move |s: CnnSettings| {
        page_error.set(None);
        settings.set(s.clone());
        send(Command::ConfigureCnn(s));
    };
    let apply_arch = move || {
        if let Ok(s) = draft.get_untracked() {
            if s != settings.get_untracked() {
                rebuild(s);
            }
        }
    };

    let set_seed = move |seed: u64| settings.update(|s| s.seed = seed);
    let current_seed = Signal::derive(move || settings.get().seed);
    let choose_probe = move |index: usize| {
        probe_index.set(index);
        send(Command::Probe { index });
    };
    let on_ink = move |ink: Option<Vec<f32>>| match ink {
        Some(ink) => send(Command::Classify { ink }),
        None => prediction.set(None),
    };

    let import_weights = move |bytes: Vec<u8>| {
        page_error.set(None);
        send(Command::ImportWeights { bytes });
    };
    let banner = Signal::derive(move || page_error.get().or_else(|| training_error.get()));
    let loss_lines = Signal::derive(move || history.with(loss_series));
    let accuracy_series = Signal::derive(move || {
        vec![Series {
            label: "test accuracy".into(),
            color: [39, 174, 96],
            width: 2.2,
            alpha: 1.0,
            points: accuracy_history.get(),
        }]
    });
    let kernel_images = Signal::derive(move || {
        let t = if kernel_layer.get() == "2" {
            kernels2.get()
        } else {
            kernels1.get()
        };
        t.map(|t| kernel_tiles(&t)).unwrap_or_default()
    });
    let kernel_cell = Signal::derive(move || if kernel_layer.get() == "2" { 28.0 } else { 48.0 });
    let examples_per_second =
        Signal::derive(move || f64::from(steps_per_second.get()) * settings.get().batch_size as f64);
    let predicted = Signal::derive(move || prediction.get().as_deref().and_then(argmax));

    let optimizer_options: Vec<_> = OptimizerChoice::ALL.iter().map(|o| (o.key(), o.label())).collect();
    let pool_options: Vec<_> = PoolChoice::ALL.iter().map(|p| (p.key(), p.label())).collect();
    let arch_inputs = ARCH_FIELDS
        .iter()
        .zip(arch_texts.clone())
        .map(|(field, text)| {
            let error = Signal::derive(move || validate::parse_integer(&text.get(), field.min, field.max).err());
            view! {
                <TextField
                    id=field.key
                    label=field.label
                    testid=field.key
                    value=text
                    error=error
                    inputmode="numeric"
                    on_commit=move |_: String| apply_arch()
                />
            }
        })
        .collect_view();
    let shapes_table = move || match shapes.get() {
        Ok(rows) => {
            let total: usize = rows.iter().map(|r| r.params).sum();
            let body = rows
                .into_iter()
                .map(|r| {
                    let shape = r.shape.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(" \u{d7} ");
                    view! { <tr><td>{r.name}</td><td>{shape}</td><td class="num">{format_number(r.params as f64)}</td></tr> }
                })
                .collect_view();
            view! {
                <table class="shapes" data-testid="layer-shapes">
                    <thead><tr><th scope="col">"Layer"</th><th scope="col">"Output"</th><th scope="col">"Parameters"</th></tr></thead>
                    <tbody>
                        <tr><td>"input"</td><td>"1 \u{d7} 28 \u{d7} 28"</td><td class="num">"0"</td></tr>
                        {body}
                    </tbody>
                    <tfoot><tr><td colspan="2">"Total"</td><td class="num" data-testid="param-count">{format_number(total as f64)}</td></tr></tfoot>
                </table>
            }
            .into_any()
        }
        Err(message) => view! { <p class="field-error" role="alert" data-testid="arch-error">{message}</p> }.into_any(),
    };
    let maps_view = move || {
        maps.get()
            .into_iter()
            .enumerate()
            .map(|(layer, (name, t))| view! { <LayerMaps layer=layer name=name maps=t hover=hover /> })
            .collect_view()
    };
    let probe_caption = move || {
        let truth = probe_label
            .get()
            .map(|l| l.to_string())
            .unwrap_or_else(|| "\u{2013}".into());
        let guess = probe_probs
            .get()
            .as_deref()
            .and_then(argmax)
            .map(|p| p.to_string())
            .unwrap_or_else(|| "\u{2013}".into());
        format!(
            "Test digit #{} \u{b7} label {truth} \u{b7} network says {guess}",
            probe_index.get()
        )
    };
    let bars = move || {
        let probs = prediction.get().unwrap_or_default();
        (0..10)
            .map(|d| {
                let p = probs.get(d).copied().unwrap_or(0.0);
                let style = format!("width:{:.1}%", 100.0 * p.clamp(0.0, 1.0));
                let top = predicted.get() == Some(d);
                view! {
                    <li class:top=top>
                        <span class="bar-label">{d.to_string()}</span>
                        <span class="bar"><span class="bar-fill" style=style></span></span>
                        <span class="bar-value">{format!("{:.0}%", 100.0 * p)}</span>
                    </li>
                }
            })
            .collect_view()
    };

    view! {
        <article class="page lab" data-testid="cnn-lab">
            <header class="lab-header">
                <p class="eyebrow">"Lab \u{b7} live"</p>
                <h1>"Convolutional network on handwritten digits"</h1>
                <p class="lede">
                    "Conv \u{2192} ReLU \u{2192} Pool, twice, then a fully connected layer: it learns to read \
                     MNIST digits right here, on your CPU. 8,000 digits train it; 2,000 it never sees measure it."
                </p>
            </header>
            <ErrorBanner error=banner />
            <Show when=move || status.get().is_some()>
                <p class="status-line" role="status" data-testid="status">{move || status.get().unwrap_or_default()}</p>
            </Show>
            <div class="lab-layout cnn-layout">
                <section class="panel controls-panel" aria-labelledby="cnn-controls">
                    <h2 id="cnn-controls">"Train"</h2>
                    <LabTrainControls send=send running=running step=step loss=loss seed_text=seed_text seed_error=seed_error seed=current_seed set_seed=set_seed page_error=page_error />
                    <div class="field-grid">
                        <SelectField
                            id="cnn-optimizer"
                            label="Optimizer"
                            testid="optimizer-select"
                            options=optimizer_options
                            value=Signal::derive(move || settings.get().optimizer.key())
                            on_change=move |key: String| if let Some(o) = OptimizerChoice::from_key(&key) { set_hyper(Hyper::Optimizer(o)) }
                        />
                        <TextField
                            id="cnn-lr"
                            label="Learning rate"
                            testid="lr-input"
                            value=lr_text
                            error=lr_error
                            hint="Adam: 0.001 to 0.003"
                            on_commit=move |text: String| if let Ok(v) = learning_rate(&text) { if v != settings.get_untracked().learning_rate { set_hyper(Hyper::LearningRate(v)) } }
                        />
                        <TextField
                            id="cnn-batch"
                            label="Batch size"
                            testid="batch-input"
                            value=batch_text
                            error=batch_error
                            hint="1 to 512"
                            inputmode="numeric"
                            on_commit=move |text: String| if let Ok(v) = validate::batch_size(&text) { if v != settings.get_untracked().batch_size { set_hyper(Hyper::BatchSize(v)) } }
                        />
                        <div class="field checkbox">
                            <label>
                                <input
                                    type="checkbox"
                                    data-testid="augment-toggle"
                                    prop:checked=move || settings.get().augment
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        rebuild(CnnSettings { augment: on, ..settings.get_untracked() });
                                    }
                                />
                                " Shift digits by up to 2 pixels (augmentation)"
                            </label>
                        </div>
                    </div>
                    <WeightsControls
                        on_export=move |_| send(Command::ExportWeights)
                        on_import=import_weights
                    />
                    <div class="stats">
                        <Stat
                            label="Test accuracy"
                            testid="test-accuracy"
                            value=Signal::derive(move || test_accuracy.get().map(|a| a.to_string()).unwrap_or_default())
                            display=Signal::derive(move || test_accuracy.get().map(|a| format!("{:.2}%", 100.0 * a)).unwrap_or_else(|| "\u{2013}".into()))
                        />
                        <Stat
                            label="Examples / s"
                            testid="throughput"
                            value=Signal::derive(move || examples_per_second.get().to_string())
                            display=Signal::derive(move || if running.get() { format_number(examples_per_second.get().round()) } else { "\u{2013}".into() })
                        />
                    </div>
                </section>
                <section class="panel" aria-labelledby="cnn-arch">
                    <h2 id="cnn-arch">"Network"</h2>
                    <div class="field-grid">
                        {arch_inputs}
                        <SelectField
                            id="cnn-pool"
                            label="Pooling"
                            testid="pool-select"
                            options=pool_options
                            value=Signal::derive(move || settings.get().pool.key())
                            on_change=move |key: String| if let Some(p) = PoolChoice::from_key(&key) { rebuild(CnnSettings { pool: p, ..settings.get_untracked() }) }
                        />
                    </div>
                    {shapes_table}
                    <p class="note">"Changing the network starts a new run; learning rate, batch size and optimizer change on the fly."</p>
                </section>
                <section class="panel progress-panel" aria-labelledby="cnn-progress">
                    <h2 id="cnn-progress">"Progress"</h2>
                    <LineChart series=loss_lines testid="loss-chart" title="Training loss (cross-entropy) by step" empty_text="Press Start to train" />
                    <LineChart series=accuracy_series testid="accuracy-chart" title="Test accuracy (2,000 unseen digits) by step" empty_text="Measured while training" />
                </section>
                <section class="panel wide" aria-labelledby="cnn-kernels">
                    <h2 id="cnn-kernels">"Kernels"</h2>
                    <SelectField
                        id="kernel-layer"
                        label="Layer"
                        testid="kernel-layer"
                        options=vec![("1", "Conv 1 (one per filter)"), ("2", "Conv 2 (filter \u{d7} input channel)")]
                        value=Signal::derive(move || if kernel_layer.get() == "2" { "2" } else { "1" })
                        on_change=move |key: String| kernel_layer.set(key)
                    />
                    <ImageGrid images=kernel_images testid="kernel-grid" label="Convolution kernels: red positive, blue negative, white zero" cell=kernel_cell.get_untracked() />
                    <p class="note">"Red weights add, blue ones subtract; early on they are noise, then edge and stroke detectors appear."</p>
                </section>
                <section class="panel wide" aria-labelledby="cnn-maps">
                    <h2 id="cnn-maps">"Feature maps"</h2>
                    <div class="button-row" role="group" aria-label="Choose a test digit">
                        <button type="button" class="button" on:click=move |_| choose_probe((probe_index.get_untracked() + TEST_DIGITS - 1) % TEST_DIGITS)>"\u{2190} Previous"</button>
                        <button type="button" class="button" on:click=move |_| choose_probe((probe_index.get_untracked() + 1) % TEST_DIGITS)>"Next \u{2192}"</button>
                        <button type="button" class="button" on:click=move |_| choose_probe((probe_index.get_untracked() * 7919 + 101) % TEST_DIGITS)>"Another"</button>
                    </div>
                    <p class="note">{probe_caption}</p>
                    <div class="maps" data-testid="feature-maps">
                        <ProbeInput input=probe_input hover=hover config=config />
                        <div class="map-layers">{maps_view}</div>
                    </div>
                </section>
                <section class="panel" aria-labelledby="cnn-explainer">
                    <h2 id="cnn-explainer">"Stride and padding"</h2>
                    <ConvExplainer />
                </section>
                <section class="panel" aria-labelledby="cnn-draw">
                    <h2 id="cnn-draw">"Draw a digit"</h2>
                    <DrawPad on_ink=on_ink />
                    <p class="prediction" data-testid="prediction" data-value=move || predicted.get().map(|p| p.to_string()).unwrap_or_default() aria-live="polite">
                        {move || match predicted.get() { Some(p) => format!("It looks like a {p}"), None => "Draw a digit above".into() }}
                    </p>
                    <ol class="bars" aria-label="Probability of each digit">{bars}</ol>
                </section>
                <section class="panel wide" aria-labelledby="cnn-confusion">
                    <h2 id="cnn-confusion">"What it gets wrong"</h2>
                    <ConfusionMatrix counts=confusion />
                    <h3>"Misclassified test digits (true \u{2192} predicted)"</h3>
                    <ImageGrid images=Signal::derive(move || mistakes.get()) testid="mistakes" label="Test digits the network gets wrong" cell=48.0 />
                </section>
            </div>
        </article>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_round_trips_settings_and_rejects_impossible_ones() {
        let s = CnnSettings {
            conv1_filters: 4,
            kernel: 3,
            padding: 1,
            learning_rate: 0.002,
            seed: 9,
            augment: true,
            ..CnnSettings::default()
        };
        let query = url_state::encode_query(&settings_to_query(&s));
        assert_eq!(settings_from_query(&url_state::parse_query(&query)), s);
        // A kernel that cannot fit falls back to the default network, seed kept.
        let bad = settings_from_query(&url_state::parse_query("k=9&p=0&p1=4&seed=5"));
        assert_eq!(
            bad,
            CnnSettings {
                seed: 5,
                ..CnnSettings::default()
            }
        );
        assert!(learning_rate("-1").is_err() && learning_rate("11").is_err() && learning_rate("0.003").is_ok());
    }

    #[test]
    fn kernel_tiles_share_one_scale_per_layer() {
        let t = NamedTensor::new(
            "conv1.weight",
            vec![2, 1, 2, 2],
            vec![1.0, 0.0, -1.0, 0.5, 0.1, 0.0, 0.0, 0.0],
        );
        let tiles = kernel_tiles(&t);
        assert_eq!(tiles.len(), 2);
        // 0.1 on the layer's scale is pale, not saturated red.
        assert_ne!(tiles[1].1.pixel(0, 0), tiles[0].1.pixel(0, 0));
        assert_eq!(tiles[0].0, "1");
    }
}
