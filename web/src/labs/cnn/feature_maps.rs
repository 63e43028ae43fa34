//! The feature maps of one test digit after every layer, and the digit
//! itself with the receptive field of the cell the pointer is over.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use deepplay_core::models::cnn::CnnConfig;

use crate::components::keyboard::step_cell;
use crate::draw::{ink_image, sequential, RgbaImage};
use crate::worker::protocol::NamedTensor;

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

/// Paints an image scaled into `rect` of a 2-D context, pixels kept crisp.
fn blit(ctx: &web_sys::CanvasRenderingContext2d, image: &RgbaImage, x: f64, y: f64, size: f64) {
    crate::components::canvas::draw_image(ctx, image, (x, y, size, size), false);
}

fn context_2d(canvas: &web_sys::HtmlCanvasElement) -> Option<web_sys::CanvasRenderingContext2d> {
    canvas.get_context("2d").ok().flatten()?.dyn_into().ok()
}

/// A hovered cell: (layer index as in `layer_shapes`, row, column).
pub type Hover = Option<(usize, usize, usize)>;

const TILE_GAP: f64 = 4.0;
const TILES_PER_ROW: usize = 8;

/// One layer's feature maps on one canvas; hovering reports the cell. The
/// canvas stays while `maps` updates (its shape is fixed: a new shape is a
/// new `LayerMaps`), so keyboard focus and the hovered cell survive training.
#[component]
pub fn LayerMaps(
    layer: usize,
    name: String,
    /// `[channels, height, width]` of the layer's output.
    shape: Vec<usize>,
    #[prop(into)] maps: Signal<Option<NamedTensor>>,
    hover: RwSignal<Hover>,
) -> impl IntoView {
    let canvas = NodeRef::<html::Canvas>::new();
    let [channels, h, w] = shape[..] else {
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
    // Coloured once per update of the maps, not at every pointer move or
    // key press that only moves the hovered cell.
    let images = Memo::new(move |_| maps.with(|m| m.as_ref().map(channel_images).unwrap_or_default()));
    Effect::new(move |_| {
        let Some(c) = canvas.get() else { return };
        let Some(ctx) = context_2d(&c) else { return };
        ctx.clear_rect(0.0, 0.0, cw, ch);
        images.with(|images| {
            for (i, image) in images.iter().enumerate() {
            blit(
                &ctx,
                image,
                (i % TILES_PER_ROW) as f64 * (tile + TILE_GAP),
                (i / TILES_PER_ROW) as f64 * (tile + TILE_GAP),
                tile,
            );
            }
        });
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
    // The arrow keys move the hovered cell over a focused layer's maps.
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let current = hover.get_untracked().and_then(|(l, y, x)| (l == layer).then_some((y, x)));
        if let Some((y, x)) = step_cell(current, h, w, &ev.key()) {
            ev.prevent_default();
            hover.set(Some((layer, y, x)));
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
                style:width=format!("{cw}px")
                style:max-width="100%"
                role="img"
                aria-label=format!(
                    "Feature maps of {name}: hover a cell, or focus the maps and use the arrow keys, to see the input pixels it sees"
                )
                tabindex="0"
                on:pointermove=on_move
                on:pointerleave=move |_| hover.set(None)
                on:keydown=on_key
                on:blur=move |_| hover.set(None)
            ></canvas>
        </div>
    }
    .into_any()
}

/// The chosen digit with the receptive field of the hovered cell.
#[component]
pub fn ProbeInput(#[prop(into)] input: Signal<Option<NamedTensor>>, hover: RwSignal<Hover>, config: Memo<CnnConfig>) -> impl IntoView {
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
        None => "Hover a feature-map cell (or focus a layer's maps and use the arrow keys) to see which input pixels it sees.".to_string(),
    };
    view! {
        <figure class="probe-input">
            <canvas node_ref=canvas width=SIZE height=SIZE data-testid="probe-input" role="img" aria-label="The chosen test digit"></canvas>
            <figcaption aria-live="polite">{caption}</figcaption>
        </figure>
    }
}

