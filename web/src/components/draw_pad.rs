//! A square pad to draw on with mouse, pen or touch. It reports the ink as
//! the 28x28 image MNIST would have made of it (bounding box scaled to 20
//! pixels, centre of mass centred: `deepplay_core::data::mnist::center_like_mnist`).

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{CanvasRenderingContext2d, KeyboardEvent, PointerEvent};

use super::keyboard::{Pen, PenCursor, PEN_KEYS};

use deepplay_core::data::mnist::center_like_mnist;

/// The pad's drawing resolution (CSS scales it to fit).
pub const PAD_SIZE: u32 = 280;
/// Stroke width in pad pixels: about as thick, relative to the digit, as
/// MNIST's pen strokes.
const STROKE: f64 = 20.0;
/// The keyboard pen's grid: cells one stroke wide (280 / 20).
const PEN_CELLS: usize = 14;
/// While drawing, at most this often a new image is reported.
const REPORT_INTERVAL_MS: f64 = 80.0;

fn context(canvas: &web_sys::HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()?
        .dyn_into::<CanvasRenderingContext2d>()
        .ok()
}

/// The pad's ink (alpha channel) as MNIST-style 28x28 values in [0, 1];
/// None when nothing is drawn.
fn read_ink(canvas: &web_sys::HtmlCanvasElement) -> Option<Vec<f32>> {
    let ctx = context(canvas)?;
    let (w, h) = (canvas.width(), canvas.height());
    let data = ctx.get_image_data(0.0, 0.0, f64::from(w), f64::from(h)).ok()?.data();
    let ink: Vec<f32> = data.chunks_exact(4).map(|px| f32::from(px[3]) / 255.0).collect();
    if ink.iter().all(|&v| v < 0.05) {
        return None;
    }
    Some(center_like_mnist(&ink, w as usize, h as usize))
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map(|p| p.now())
        .unwrap_or(0.0)
}

/// `on_ink` gets the 28x28 image as the visitor draws, and None on clear.
/// Each change of `clear` (after the first value) wipes the pad, as its
/// Clear button does: for a page that takes the drawing away.
#[component]
pub fn DrawPad(
    #[prop(into)] on_ink: Callback<Option<Vec<f32>>>,
    #[prop(optional, into)] clear: Option<Signal<u64>>,
    /// What the pad is for, for screen readers.
    #[prop(default = "Drawing pad: draw a digit with the mouse, a pen or a finger")]
    label: &'static str,
) -> impl IntoView {
    let canvas = NodeRef::<html::Canvas>::new();
    let drawing = StoredValue::new(false);
    let last = StoredValue::new((0.0f64, 0.0f64));
    let last_report = StoredValue::new(0.0f64);

    let position = move |ev: &PointerEvent| -> Option<(f64, f64)> {
        let canvas = canvas.get()?;
        let rect = canvas.get_bounding_client_rect();
        if rect.width() <= 0.0 {
            return None;
        }
        let scale = f64::from(canvas.width()) / rect.width();
        Some((
            (f64::from(ev.client_x()) - rect.left()) * scale,
            (f64::from(ev.client_y()) - rect.top()) * scale,
        ))
    };
    let stroke_to = move |to: (f64, f64)| {
        let Some(ctx) = canvas.get().and_then(|c| context(&c)) else {
            return;
        };
        let from = last.get_value();
        ctx.set_line_width(STROKE);
        ctx.set_line_cap("round");
        ctx.set_line_join("round");
        ctx.set_stroke_style_str("#111827");
        ctx.begin_path();
        ctx.move_to(from.0, from.1);
        ctx.line_to(to.0, to.1);
        ctx.stroke();
        last.set_value(to);
    };
    let report = move |force: bool| {
        let now = now_ms();
        if force || now - last_report.get_value() >= REPORT_INTERVAL_MS {
            last_report.set_value(now);
            if let Some(c) = canvas.get() {
                on_ink.run(read_ink(&c));
            }
        }
    };
    let on_down = move |ev: PointerEvent| {
        ev.prevent_default();
        if let Some(c) = canvas.get() {
            let _ = c.set_pointer_capture(ev.pointer_id());
        }
        if let Some(p) = position(&ev) {
            drawing.set_value(true);
            last.set_value(p);
            stroke_to(p);
            report(false);
        }
    };
    let on_move = move |ev: PointerEvent| {
        if drawing.get_value() {
            ev.prevent_default();
            if let Some(p) = position(&ev) {
                stroke_to(p);
                report(false);
            }
        }
    };
    let on_up = move |_: PointerEvent| {
        if drawing.get_value() {
            drawing.set_value(false);
            report(true);
        }
    };
    // The keyboard draws with a pen that moves a stroke's width at a time.
    let pen = RwSignal::new(Pen::default());
    let on_key = move |ev: KeyboardEvent| {
        let before = pen.get_untracked();
        let Some((after, ink)) = before.key(PEN_CELLS, &ev.key()) else {
            return;
        };
        ev.prevent_default();
        pen.set(after);
        if let (true, Some((row, col))) = (ink, after.cell) {
            let cell = f64::from(PAD_SIZE) / PEN_CELLS as f64;
            let centre = ((col as f64 + 0.5) * cell, (row as f64 + 0.5) * cell);
            if !before.down {
                last.set_value(centre);
            }
            stroke_to(centre);
            report(true);
        }
    };
    let wipe = move || {
        if let Some(c) = canvas.get_untracked() {
            if let Some(ctx) = context(&c) {
                ctx.clear_rect(0.0, 0.0, f64::from(c.width()), f64::from(c.height()));
            }
        }
        on_ink.run(None);
    };
    if let Some(trigger) = clear {
        Effect::new(move |previous: Option<u64>| {
            let now = trigger.get();
            if previous.is_some_and(|p| p != now) {
                wipe();
            }
            now
        });
    }
    let clear = move |_| wipe();
    view! {
        <div class="draw-pad">
            <div class="draw-pad-surface">
                <canvas
                    node_ref=canvas
                    width=PAD_SIZE
                    height=PAD_SIZE
                    data-testid="draw-canvas"
                    role="img"
                    aria-label=format!("{label}. {PEN_KEYS}")
                    tabindex="0"
                    on:pointerdown=on_down
                    on:pointermove=on_move
                    on:pointerup=on_up
                    on:pointercancel=on_up
                    on:keydown=on_key
                    on:blur=move |_| pen.set(Pen::default())
                ></canvas>
                <PenCursor pen=pen cells=PEN_CELLS />
            </div>
            <button type="button" class="button" data-testid="clear-drawing" on:click=clear>
                "Clear"
            </button>
        </div>
    }
}
