//! Runs in headless Chrome:
//! `CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
//! CHROMEDRIVER=/usr/bin/chromedriver cargo test -p deepplay-tests --target wasm32-unknown-unknown`
#![cfg(target_arch = "wasm32")]

use deepplay_web::components::{Dot, ErrorBanner, Heatmap, ImageGrid, LineChart, Series, TrainControls};
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
    use deepplay_web::worker::playground::PlaygroundTrainer;
    use deepplay_web::worker::protocol::{DatasetChoice, PlaygroundConfig};
    let mut trainer = PlaygroundTrainer::new(PlaygroundConfig {
        dataset: DatasetChoice::Moons,
        ..PlaygroundConfig::default()
    })
    .unwrap();
    let first = trainer.train_step().unwrap();
    let mut last = first;
    for _ in 0..500 {
        last = trainer.train_step().unwrap();
    }
    assert!(last < first, "loss went from {first} to {last}");
    assert!(trainer.accuracy() > 0.85, "accuracy {}", trainer.accuracy());
}

#[wasm_bindgen_test]
async fn controls_render_the_contract_ids_and_call_back() {
    let root = host();
    let running = RwSignal::new(false);
    let step = RwSignal::new(0u64);
    let loss = RwSignal::new(f32::NAN);
    let seed = RwSignal::new("42".to_string());
    let toggles = RwSignal::new(0);
    let _mounted = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <TrainControls
                running=running
                step=step
                loss=loss
                seed=seed
                seed_error=Signal::derive(move || deepplay_web::validate::seed(&seed.get()).err())
                on_toggle=move |_| {
                    toggles.update(|t| *t += 1);
                    running.update(|r| *r = !*r);
                }
                on_step=move |_| step.update(|s| *s += 1)
                on_reset=move |_| step.set(0)
                on_seed=move |_| {}
            />
        }
    });
    tick().await;

    for id in [
        "train-toggle",
        "step-once",
        "reset",
        "seed-input",
        "step-count",
        "loss-value",
    ] {
        assert!(by_testid(&root, id).is_some(), "{id} is missing");
    }
    let toggle = by_testid(&root, "train-toggle").unwrap();
    assert!(toggle.text_content().unwrap().contains("Start"));
    toggle.click();
    tick().await;
    assert_eq!(toggles.get_untracked(), 1);
    assert!(toggle.text_content().unwrap().contains("Pause"));

    by_testid(&root, "step-once").unwrap().click();
    step.set(41);
    loss.set(0.25);
    tick().await;
    let count = by_testid(&root, "step-count").unwrap();
    assert_eq!(count.get_attribute("data-value").as_deref(), Some("41"));
    let loss_value = by_testid(&root, "loss-value").unwrap();
    assert_eq!(loss_value.get_attribute("data-value").as_deref(), Some("0.25"));

    // A seed that is not a number is refused next to the field.
    assert!(by_testid(&root, "seed-input-error").is_none());
    seed.set("banana".into());
    tick().await;
    let error = by_testid(&root, "seed-input-error").expect("the seed error shows");
    assert!(error.text_content().unwrap().contains("not a number"));
    let input = by_testid(&root, "seed-input").unwrap();
    assert_eq!(input.get_attribute("aria-invalid").as_deref(), Some("true"));
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
