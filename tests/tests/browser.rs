//! Runs in headless Chrome:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p deepplay-tests --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]

use deepplay_web::components::{
    named_loss_series, Dot, ErrorBanner, Heatmap, History, ImageGrid, LineChart, Series, TrainControls, PALETTE,
};
use deepplay_web::draw::{tensor_to_image, ColorMap};
use leptos::prelude::*;
use leptos::task::tick;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlElement;

wasm_bindgen_test_configure!(run_in_browser);

/// A fresh element in the page to mount into, with the app's stylesheet
/// loaded (the widgets' sizes come from it).
fn host() -> HtmlElement {
    let document = web_sys::window().unwrap().document().unwrap();
    if document.get_element_by_id("app-style").is_none() {
        let style = document.create_element("style").unwrap();
        style.set_id("app-style");
        style.set_text_content(Some(include_str!("../../web/style.css")));
        document.head().unwrap().append_child(&style).unwrap();
    }
    let host: HtmlElement = document.create_element("div").unwrap().unchecked_into();
    document.body().unwrap().append_child(&host).unwrap();
    host
}

fn by_testid(root: &HtmlElement, id: &str) -> Option<HtmlElement> {
    root.query_selector(&format!("[data-testid='{id}']"))
        .unwrap()
        .map(JsCast::unchecked_into)
}

#[wasm_bindgen_test]
fn every_op_passes_its_gradcheck_in_wasm() {
    let checked = deepplay_core::gradcheck::check_all_ops(7).unwrap();
    assert!(checked >= 10, "only {checked} ops checked");
}

#[wasm_bindgen_test]
fn broken_backwards_are_caught_in_wasm() {
    deepplay_core::gradcheck::check_all_ops_catch_corruption(7).unwrap();
}

#[wasm_bindgen_test]
fn the_playground_trainer_learns_in_wasm() {
    use deepplay_web::labs::playground::protocol::{DatasetChoice, PlaygroundSettings};
    use deepplay_web::labs::playground::trainer::PlaygroundTrainer;
    let settings = PlaygroundSettings {
        dataset: DatasetChoice::Moons,
        ..PlaygroundSettings::default()
    };
    let mut trainer = PlaygroundTrainer::new(settings, 42).unwrap();
    let first = trainer.train_step().unwrap();
    let mut last = first;
    for _ in 0..500 {
        last = trainer.train_step().unwrap();
    }
    assert!(last < first, "loss went from {first} to {last}");
    assert!(trainer.accuracy() > 0.85, "accuracy {}", trainer.accuracy());
}

/// What a mounted `TrainControls` called back, and the signals it shows.
struct Controls {
    root: HtmlElement,
    running: RwSignal<bool>,
    step: RwSignal<u64>,
    loss: RwSignal<f32>,
    seed: RwSignal<String>,
    toggles: RwSignal<u32>,
    steps: RwSignal<u32>,
    resets: RwSignal<u32>,
    seeds: RwSignal<Vec<String>>,
}

/// Mounts `TrainControls` with callbacks that only count and record: none
/// touches what the widget shows, so a test sees the widget's own doing.
async fn mount_controls() -> Controls {
    let root = host();
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let seed = RwSignal::new("42".to_string());
    let toggles = RwSignal::new(0);
    let steps = RwSignal::new(0);
    let resets = RwSignal::new(0);
    let seeds = RwSignal::new(Vec::<String>::new());
    let mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <TrainControls
                running=running
                step=step
                loss=loss
                seed=seed
                seed_error=Signal::derive(move || deepplay_web::validate::seed(&seed.get()).err())
                on_toggle=move |_| toggles.update(|t| *t += 1)
                on_step=move |_| steps.update(|s| *s += 1)
                on_reset=move |_| resets.update(|r| *r += 1)
                on_seed=move |text: String| seeds.update(|s| s.push(text))
            />
        }
    });
    // Kept mounted for the rest of the test run.
    std::mem::forget(mounted);
    tick().await;
    Controls {
        root,
        running,
        step,
        loss,
        seed,
        toggles,
        steps,
        resets,
        seeds,
    }
}

/// Types `text` into an input the way a visitor does: `input` events while
/// typing, `change` on Enter or leaving the field.
fn type_and_commit(input: &HtmlElement, text: &str) {
    let input: &web_sys::HtmlInputElement = input.unchecked_ref();
    input.set_value(text);
    for event in ["input", "change"] {
        input.dispatch_event(&web_sys::Event::new(event).unwrap()).unwrap();
    }
}

#[wasm_bindgen_test]
async fn controls_render_the_contract_ids_and_show_their_signals() {
    let c = mount_controls().await;
    for id in [
        "train-toggle",
        "step-once",
        "reset",
        "seed-input",
        "new-seed",
        "step-count",
        "loss-value",
    ] {
        assert!(by_testid(&c.root, id).is_some(), "{id} is missing");
    }
    let toggle = by_testid(&c.root, "train-toggle").unwrap();
    assert!(toggle.text_content().unwrap().contains("Start"));
    c.running.set(true);
    c.step.set(41);
    c.loss.set(0.25);
    tick().await;
    assert!(toggle.text_content().unwrap().contains("Pause"));
    assert_eq!(toggle.get_attribute("aria-pressed").as_deref(), Some("true"));
    let count = by_testid(&c.root, "step-count").unwrap();
    assert_eq!(count.get_attribute("data-value").as_deref(), Some("41"));
    let loss_value = by_testid(&c.root, "loss-value").unwrap();
    assert_eq!(loss_value.get_attribute("data-value").as_deref(), Some("0.25"));
}

#[wasm_bindgen_test]
async fn controls_buttons_call_their_own_callbacks_once_per_click() {
    let c = mount_controls().await;
    let counts = || {
        (
            c.toggles.get_untracked(),
            c.steps.get_untracked(),
            c.resets.get_untracked(),
            c.seeds.get_untracked().len(),
        )
    };
    assert_eq!(counts(), (0, 0, 0, 0));
    by_testid(&c.root, "train-toggle").unwrap().click();
    tick().await;
    assert_eq!(counts(), (1, 0, 0, 0), "train-toggle calls on_toggle");
    let step_once = by_testid(&c.root, "step-once").unwrap();
    step_once.click();
    step_once.click();
    tick().await;
    assert_eq!(counts(), (1, 2, 0, 0), "step-once calls on_step");
    by_testid(&c.root, "reset").unwrap().click();
    tick().await;
    assert_eq!(counts(), (1, 2, 1, 0), "reset calls on_reset");
}

#[wasm_bindgen_test]
async fn controls_pass_a_committed_seed_on_and_refuse_a_bad_one() {
    let c = mount_controls().await;
    let input = by_testid(&c.root, "seed-input").unwrap();
    type_and_commit(&input, "7");
    tick().await;
    assert_eq!(c.seed.get_untracked(), "7", "typing writes the field's signal");
    assert_eq!(c.seeds.get_untracked(), ["7"], "a committed seed reaches on_seed");
    assert!(by_testid(&c.root, "seed-input-error").is_none());

    // A seed that is not a number is refused next to the field, and the
    // page never hears of it.
    type_and_commit(&input, "banana");
    tick().await;
    let error = by_testid(&c.root, "seed-input-error").expect("the seed error shows");
    assert!(error.text_content().unwrap().contains("not a number"));
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
    assert_eq!(c.seeds.get_untracked(), ["7"], "on_seed is not called with a bad seed");
    assert_eq!(
        (
            c.toggles.get_untracked(),
            c.steps.get_untracked(),
            c.resets.get_untracked()
        ),
        (0, 0, 0)
    );
}

#[wasm_bindgen_test]
async fn the_dice_draw_a_fresh_valid_seed_into_the_field() {
    let c = mount_controls().await;
    let dice = by_testid(&c.root, "new-seed").unwrap();
    assert_eq!(dice.get_attribute("aria-label").as_deref(), Some("New random seed"));
    let input: web_sys::HtmlInputElement = by_testid(&c.root, "seed-input").unwrap().unchecked_into();
    let mut previous = input.value();
    for roll in 1..=2 {
        dice.click();
        tick().await;
        let shown = input.value();
        assert_ne!(shown, previous, "roll {roll} changed the field");
        assert!(
            deepplay_web::validate::seed(&shown).is_ok(),
            "roll {roll} drew {shown:?}"
        );
        assert_eq!(c.seed.get_untracked(), shown);
        let seeds = c.seeds.get_untracked();
        assert_eq!(seeds.len(), roll, "each roll calls on_seed once");
        assert_eq!(seeds[roll - 1], shown, "on_seed gets the drawn seed");
        previous = shown;
    }
    assert!(by_testid(&c.root, "seed-input-error").is_none());
}

#[wasm_bindgen_test]
async fn error_banner_is_present_only_while_there_is_an_error() {
    let root = host();
    let error = RwSignal::new(None::<String>);
    let _mounted = leptos::mount::mount_to(root.clone(), move || view! { <ErrorBanner error=error /> });
    tick().await;
    assert!(by_testid(&root, "error-banner").is_none());
    error.set(Some("The loss became NaN.".into()));
    tick().await;
    let banner = by_testid(&root, "error-banner").expect("banner shows");
    assert_eq!(banner.get_attribute("role").as_deref(), Some("alert"));
    assert!(banner.text_content().unwrap().contains("NaN"));
    error.set(None);
    tick().await;
    assert!(by_testid(&root, "error-banner").is_none());
}

#[wasm_bindgen_test]
async fn line_chart_draws_its_points() {
    let root = host();
    root.set_attribute("style", "width: 400px").unwrap();
    let series = RwSignal::new(Vec::<Series>::new());
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! { <LineChart series=series testid="loss-chart" title="Loss" /> }
    });
    tick().await;
    let chart = by_testid(&root, "loss-chart").expect("chart renders");
    assert_eq!(chart.get_attribute("data-points").as_deref(), Some("0"));
    series.set(vec![Series {
        label: "loss".into(),
        color: [200, 0, 0],
        width: 2.0,
        alpha: 1.0,
        points: (0..50).map(|i| (f64::from(i), 1.0 / f64::from(i + 1))).collect(),
    }]);
    tick().await;
    assert_eq!(chart.get_attribute("data-points").as_deref(), Some("50"));
    let canvas: web_sys::HtmlCanvasElement = chart.query_selector("canvas").unwrap().unwrap().unchecked_into();
    assert!(canvas.width() > 0, "the canvas was sized to its container");
}

#[wasm_bindgen_test]
async fn line_chart_shows_several_named_series_in_their_colours() {
    let root = host();
    root.set_attribute("style", "width: 400px").unwrap();
    let histories: Vec<(String, History)> = [("rnn", 1.0), ("gru", 0.5)]
        .into_iter()
        .map(|(name, loss)| {
            let mut history = History::new(100);
            for step in 0..50 {
                history.push(f64::from(step), loss);
            }
            (name.to_string(), history)
        })
        .collect();
    let series = named_loss_series(&histories);
    let colors = [PALETTE[0], PALETTE[1]];
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! { <LineChart series=series.clone() testid="losses" title="Losses" /> }
    });
    for _ in 0..5 {
        tick().await;
    }
    let chart = by_testid(&root, "losses").expect("chart renders");
    let legend: Vec<String> = (0..)
        .map_while(|i| {
            chart
                .query_selector(&format!(".legend li:nth-child({})", i + 1))
                .unwrap()
        })
        .map(|li| li.text_content().unwrap().trim().to_string())
        .collect();
    assert_eq!(legend, ["rnn", "gru"], "one entry per name, in order");
    let swatch = chart
        .query_selector(".legend li:nth-child(2) .swatch")
        .unwrap()
        .unwrap();
    // Set through the CSS object model, which writes `rgb(213, 94, 0)`.
    let style = swatch.get_attribute("style").unwrap_or_default().replace(' ', "");
    assert!(style.contains("rgb(213,94,0)"), "gru's swatch: {style}");

    let canvas: web_sys::HtmlCanvasElement = chart.query_selector("canvas").unwrap().unwrap().unchecked_into();
    let context: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    let pixels = context
        .get_image_data(0.0, 0.0, f64::from(canvas.width()), f64::from(canvas.height()))
        .unwrap()
        .data()
        .0;
    for color in colors {
        let drawn = pixels
            .chunks_exact(4)
            .filter(|p| p[3] == 255 && (0..3).all(|k| p[k].abs_diff(color[k]) <= 2))
            .count();
        assert!(drawn >= 50, "{drawn} pixels of {color:?}");
    }
}

#[wasm_bindgen_test]
async fn heatmap_and_image_grid_draw_their_pixels() {
    let root = host();
    root.set_attribute("style", "width: 300px").unwrap();
    let image = RwSignal::new(None);
    let dots = RwSignal::new(vec![Dot {
        x: 0.5,
        y: 0.5,
        color: [0, 0, 0],
    }]);
    let images = RwSignal::new(Vec::new());
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <Heatmap image=image dots=dots testid="heatmap" label="test heatmap" />
            <ImageGrid images=images testid="grid" label="test grid" cell=40.0 />
        }
    });
    let ramp: Vec<f32> = (0..16).map(|i| i as f32 - 8.0).collect();
    image.set(Some(tensor_to_image(&ramp, 4, 4, ColorMap::Diverging)));
    images.set(
        (0..9)
            .map(|k| (format!("#{k}"), tensor_to_image(&ramp, 4, 4, ColorMap::Sequential)))
            .collect(),
    );
    tick().await;
    // Effects run after a frame of layout; give them a moment.
    for _ in 0..5 {
        tick().await;
    }
    let canvas: web_sys::HtmlCanvasElement = by_testid(&root, "heatmap").unwrap().unchecked_into();
    assert!(
        canvas.width() >= 290,
        "the heatmap follows its container: {}",
        canvas.width()
    );
    assert_eq!(canvas.width(), canvas.height(), "square");
    let context: web_sys::CanvasRenderingContext2d = canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    let w = f64::from(canvas.width());
    let corner = context.get_image_data(2.0, 2.0, 1.0, 1.0).unwrap().data().0;
    let centre = context.get_image_data(w / 2.0, w / 2.0, 1.0, 1.0).unwrap().data().0;
    let far = context.get_image_data(w - 3.0, w - 3.0, 1.0, 1.0).unwrap().data().0;
    assert_ne!(corner, far, "the ramp goes from blue to red");
    assert_eq!(&centre[..3], &[0, 0, 0], "the dot is drawn on top");

    let grid = by_testid(&root, "grid").unwrap();
    assert_eq!(grid.get_attribute("data-count").as_deref(), Some("9"));
    let grid: web_sys::HtmlCanvasElement = grid.unchecked_into();
    // 300 px fit 6 cells of 40 + 8; 9 images make 2 rows.
    assert!(grid.client_height() > 80, "two rows: {}", grid.client_height());
}
