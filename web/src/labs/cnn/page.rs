//! `/cnn`: a convolutional network learns MNIST live, and shows what it
//! learns: first- and second-layer kernels, the feature maps of a chosen
//! test digit with each cell's receptive field, a stride/padding explainer,
//! loss and test accuracy, the confusion matrix, the digits it gets wrong,
//! and a pad to draw digits on.
//!
//! The worker owns the data and the model; this page validates settings,
//! sends commands, and turns snapshots into pictures through [`CnnView`].

use leptos::prelude::*;

use deepplay_core::models::cnn::LayerShape;

use super::confusion::ConfusionMatrix;
use super::explainer::ConvExplainer;
use super::feature_maps::{LayerMaps, ProbeInput};
use super::protocol::{CnnCommand, CnnProtocol, CnnReply, CnnSettings, Hyper, PoolChoice};
use super::query::{learning_rate, settings_from_query, settings_to_query, ARCH_FIELDS};
use super::state::CnnView;
use crate::components::{
    loss_series, DrawPad, ErrorBanner, ImageGrid, LineChart, SelectField, Series, Stat, TextField, WeightsControls,
};
use crate::draw::{diverging_image, format_number, RgbaImage};
use crate::pages::lab_controls::{spawn_lab_worker, LabTrainControls};
use crate::url_state;
use crate::validate;
use crate::worker::protocol::{Command, NamedTensor, OptimizerChoice};

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
fn argmax(p: &[f32]) -> Option<usize> {
    (0..p.len())
        .filter(|&i| p[i].is_finite())
        .max_by(|&a, &b| p[a].total_cmp(&p[b]))
}

#[component]
pub fn CnnPage() -> impl IntoView {
    let initial = settings_from_query(&url_state::read());
    let run = RwSignal::new(initial.clone());
    let settings = Memo::new(move |_| run.get().settings);

    // What the worker reports, brought up to date by `CnnView::apply`.
    let view_state = RwSignal::new(CnnView::default());
    let running = RwSignal::new(false);
    let step = Memo::new(move |_| view_state.with(|v| v.step));
    let loss = Memo::new(move |_| view_state.with(|v| v.loss));
    let steps_per_second = Memo::new(move |_| view_state.with(|v| v.steps_per_second));
    let test_accuracy = Memo::new(move |_| view_state.with(|v| v.test_accuracy));
    let test_size = Memo::new(move |_| view_state.with(|v| v.test_size));
    let kernels1 = Memo::new(move |_| view_state.with(|v| v.kernels1.clone()));
    let kernels2 = Memo::new(move |_| view_state.with(|v| v.kernels2.clone()));
    let maps = Memo::new(move |_| view_state.with(|v| v.maps.clone()));
    let probe_input = Memo::new(move |_| view_state.with(|v| v.probe_input.clone()));
    let probe_label = Memo::new(move |_| view_state.with(|v| v.probe_label));
    let probe_probs = Memo::new(move |_| view_state.with(|v| v.probe_probs.clone()));
    let confusion = Memo::new(move |_| view_state.with(|v| v.confusion.clone()));
    let mistakes = Memo::new(move |_| view_state.with(|v| v.mistakes.clone()));
    let status = Memo::new(move |_| view_state.with(|v| v.status.clone()));
    let training_error = Memo::new(move |_| view_state.with(|v| v.error.clone()));
    let prediction = RwSignal::new(None::<Vec<f32>>);
    let page_error = RwSignal::new(None::<String>);
    let hover = RwSignal::new(None::<(usize, usize, usize)>);
    let probe_index = RwSignal::new(0usize);
    let kernel_layer = RwSignal::new("1".to_string());
    // Test digits the visitor can pick from (2,000 until the worker says).
    let test_digits = Signal::derive(move || test_size.get().unwrap_or(2000).max(1) as usize);

    // Fields as typed.
    let seed_text = RwSignal::new(initial.seed.to_string());
    let lr_text = RwSignal::new(initial.settings.learning_rate.to_string());
    let batch_text = RwSignal::new(initial.settings.batch_size.to_string());
    let arch_texts: Vec<RwSignal<String>> = ARCH_FIELDS
        .iter()
        .map(|f| RwSignal::new((f.get)(&initial.settings).to_string()))
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

    let link = spawn_lab_worker::<CnnProtocol>(
        move |s| {
            running.set(s.running);
            view_state.update(|v| v.apply(&s));
        },
        move |reply| match reply {
            CnnReply::Prediction { probabilities } => prediction.set(Some(probabilities)),
        },
        move || run.get_untracked(),
        running,
        page_error,
    );
    let send = move |command: Command| link.send(command);
    Effect::new(move |_| url_state::replace(&settings_to_query(&run.get())));

    let set_hyper = move |hyper: Hyper| {
        run.update(|r| hyper.apply(&mut r.settings));
        link.hyper(&hyper);
    };
    let rebuild = move |s: CnnSettings| {
        page_error.set(None);
        run.update(|r| r.settings = s);
        link.configure(&run.get_untracked());
    };
    let apply_arch = move || {
        if let Ok(s) = draft.get_untracked() {
            if s != settings.get_untracked() {
                rebuild(s);
            }
        }
    };

    let set_seed = move |seed: u64| run.update(|r| r.seed = seed);
    let current_seed = Signal::derive(move || run.get().seed);
    let choose_probe = move |index: usize| {
        probe_index.set(index);
        link.command(&CnnCommand::Probe { index });
    };
    let on_ink = move |ink: Option<Vec<f32>>| match ink {
        Some(ink) => link.command(&CnnCommand::Classify { ink }),
        None => prediction.set(None),
    };

    let import_weights = move |bytes: Vec<u8>| {
        page_error.set(None);
        send(Command::ImportWeights { bytes });
    };
    let banner = Signal::derive(move || page_error.get().or_else(|| training_error.get()));
    let loss_lines = Signal::derive(move || view_state.with(|v| loss_series(&v.loss_history)));
    let accuracy_series = Signal::derive(move || {
        vec![Series {
            label: "test accuracy".into(),
            color: [39, 174, 96],
            width: 2.2,
            alpha: 1.0,
            points: view_state.with(|v| v.accuracy_history.clone()),
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

    let optimizer_options = OptimizerChoice::options();
    let pool_options = PoolChoice::options();
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
    // One canvas per layer, kept while training updates its maps (keyed by
    // the layer's name and shape, which change only with the architecture).
    let layer_keys = Memo::new(move |_| {
        maps.with(|m| {
            m.iter()
                .enumerate()
                .map(|(layer, (name, t))| (layer, name.clone(), t.shape.clone()))
                .collect::<Vec<_>>()
        })
    });
    let maps_view = move || {
        view! {
            <For
                each=move || layer_keys.get()
                key=|k| k.clone()
                children=move |(layer, name, shape)| {
                    let layer_maps = Signal::derive(move || maps.with(|m| m.get(layer).map(|(_, t)| t.clone())));
                    view! { <LayerMaps layer=layer name=name shape=shape maps=layer_maps hover=hover /> }
                }
            />
        }
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
                let width = format!("{:.1}%", 100.0 * p.clamp(0.0, 1.0));
                let top = predicted.get() == Some(d);
                view! {
                    <li class:top=top>
                        <span class="bar-label">{d.to_string()}</span>
                        <span class="bar"><span class="bar-fill" style:width=width></span></span>
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
                <div class="status-line" role="status" data-testid="status">
                    <span>{move || status.get().map(|(text, _)| text).unwrap_or_default()}</span>
                    {move || status.get().and_then(|(_, p)| p).map(|p| view! { <progress max="1" value=p.to_string() aria-label="Loading"></progress> })}
                </div>
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
                            hint=validate::range_hint(deepplay_core::limits::BATCH_SIZE)
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
                            value=Signal::derive(move || test_accuracy.get().map(|t| t.accuracy.to_string()).unwrap_or_default())
                            display=Signal::derive(move || test_accuracy.get().map(|t| format!("{:.2}%", 100.0 * t.accuracy)).unwrap_or_else(|| "\u{2013}".into()))
                        />
                        <Stat
                            label="Examples / s"
                            testid="throughput"
                            value=Signal::derive(move || examples_per_second.get().to_string())
                            display=Signal::derive(move || if running.get() { format_number(examples_per_second.get().round()) } else { "\u{2013}".into() })
                        />
                    </div>
                    <p class="note" data-testid="test-step" data-value=move || test_accuracy.get().map(|t| t.step.to_string()).unwrap_or_default()>
                        {move || match test_accuracy.get() {
                            Some(t) => format!("Test accuracy measured at step {} on {} digits never trained on.", format_number(t.step as f64), test_digits.get()),
                            None => "Test accuracy is measured while training and whenever you pause.".to_string(),
                        }}
                    </p>
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
                        <button type="button" class="button" on:click=move |_| choose_probe((probe_index.get_untracked() + test_digits.get_untracked() - 1) % test_digits.get_untracked())>"\u{2190} Previous"</button>
                        <button type="button" class="button" on:click=move |_| choose_probe((probe_index.get_untracked() + 1) % test_digits.get_untracked())>"Next \u{2192}"</button>
                        <button type="button" class="button" on:click=move |_| choose_probe((probe_index.get_untracked() * 7919 + 101) % test_digits.get_untracked())>"Another"</button>
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
                    <ConfusionMatrix counts=confusion test_size=test_size />
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
