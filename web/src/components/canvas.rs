//! Canvas plumbing the charts share: following an element's size, sharp
//! drawing on high-density screens, and copying an [`RgbaImage`] over.

use js_sys::Array;
use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::prelude::*;
use wasm_bindgen::{Clamped, JsCast};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, ResizeObserver, ResizeObserverEntry};

use crate::draw::RgbaImage;

/// The faces the charts write in. Every font a canvas uses is built from
/// these here, so that `warm_fonts` knows them all.
pub const SANS: &str = "system-ui, -apple-system, 'Segoe UI', sans-serif";
pub const MONO: &str = "ui-monospace, 'SFMono-Regular', Menlo, Consolas, monospace";
/// Line charts' tick labels, and placeholders.
pub const TICK_FONT: &str = "12px system-ui, -apple-system, 'Segoe UI', sans-serif";
/// Axis labels and image captions.
pub const SMALL_FONT: &str = "11px system-ui, -apple-system, 'Segoe UI', sans-serif";
/// A chart's placeholder text.
pub const NOTE_FONT: &str = "13px system-ui, -apple-system, 'Segoe UI', sans-serif";

/// Token labels of the attention maps, `size` px (9 to 12).
pub fn mono_font(bold: bool, size: f64) -> String {
    format!("{} {size}px {MONO}", if bold { "bold" } else { "normal" })
}

/// A detector's box tags, `size` px (9 to 13).
pub fn tag_font(size: f64) -> String {
    format!("600 {size:.0}px {SANS}")
}

/// Every font any canvas of the app draws text in.
pub fn canvas_fonts() -> Vec<String> {
    let mut fonts = vec![TICK_FONT.to_string(), SMALL_FONT.to_string(), NOTE_FONT.to_string()];
    for size in 9..=12 {
        fonts.push(mono_font(false, f64::from(size)));
        fonts.push(mono_font(true, f64::from(size)));
    }
    fonts.extend((9..=13).map(|size| tag_font(f64::from(size))));
    fonts
}

/// Writes a little text in every font of [`canvas_fonts`], each in a task
/// of its own, on an off-screen canvas, soon after the page starts.
///
/// Why: the first text in a font (face, size, weight) makes the renderer
/// ask the browser process for its render settings over a synchronous
/// message (`FontCache::GetFontPlatformData` on Linux). Idle, that takes
/// about a millisecond; while a lab trains, with the worker on one core,
/// a Chromium trace measured the wait at 53 ms inside the Sequences lab's
/// first snapshot after Start (its charts' first axis labels): the one
/// main-thread task over the 50 ms budget. Asked at start, before anything
/// trains, the answer is cached for the page's life.
pub fn warm_fonts() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let Some(canvas) = document
        .create_element("canvas")
        .ok()
        .and_then(|c| c.dyn_into::<HtmlCanvasElement>().ok())
    else {
        return;
    };
    canvas.set_width(16);
    canvas.set_height(16);
    let Some(context) = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
    else {
        return;
    };
    for font in canvas_fonts() {
        let context = context.clone();
        set_timeout(
            move || {
                context.set_font(&font);
                let _ = context.fill_text("0.5 Ag", 0.0, 12.0);
                // Standing up too, as axis and key labels are drawn.
                context.save();
                if context.rotate(-std::f64::consts::FRAC_PI_2).is_ok() {
                    let _ = context.fill_text("0.5 Ag", -12.0, 12.0);
                }
                context.restore();
            },
            std::time::Duration::ZERO,
        );
    }
}

/// Keeps a `ResizeObserver` and its callback alive together; disconnects
/// before the callback is freed.
struct ResizeWatch {
    observer: ResizeObserver,
    _callback: Closure<dyn FnMut(Array)>,
}

impl Drop for ResizeWatch {
    fn drop(&mut self) {
        self.observer.disconnect();
    }
}

/// The content-box size of an element in CSS pixels, updated as it
/// resizes; `(0, 0)` until it is mounted.
pub fn use_element_size(node: NodeRef<html::Div>) -> ReadSignal<(f64, f64)> {
    let (size, set_size) = signal((0.0, 0.0));
    let watch = StoredValue::new_local(None::<ResizeWatch>);
    Effect::new(move |_| {
        let Some(element) = node.get() else {
            return;
        };
        let element: web_sys::Element = element.into();
        set_size.set((f64::from(element.client_width()), f64::from(element.client_height())));
        let callback = Closure::<dyn FnMut(Array)>::new(move |entries: Array| {
            if let Ok(entry) = entries.get(0).dyn_into::<ResizeObserverEntry>() {
                let rect = entry.content_rect();
                set_size.try_set((rect.width(), rect.height()));
            }
        });
        if let Ok(observer) = ResizeObserver::new(callback.as_ref().unchecked_ref()) {
            observer.observe(&element);
            watch.set_value(Some(ResizeWatch {
                observer,
                _callback: callback,
            }));
        }
    });
    size
}

/// Sizes the canvas's backing store to `css_width` x `css_height` times the
/// device pixel ratio, and returns its context scaled so that drawing
/// coordinates are CSS pixels. `None` for a zero size or no 2-D context.
pub fn prepare(canvas: &HtmlCanvasElement, css_width: f64, css_height: f64) -> Option<CanvasRenderingContext2d> {
    if css_width < 1.0 || css_height < 1.0 {
        return None;
    }
    let ratio = web_sys::window()
        .map(|w| w.device_pixel_ratio())
        .unwrap_or(1.0)
        .max(1.0);
    let width = (css_width * ratio).round() as u32;
    let height = (css_height * ratio).round() as u32;
    if canvas.width() != width {
        canvas.set_width(width);
    }
    if canvas.height() != height {
        canvas.set_height(height);
    }
    let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    // Setting the size resets the transform only when it changed; set it
    // explicitly every time.
    context.set_transform(ratio, 0.0, 0.0, ratio, 0.0, 0.0).ok()?;
    context.clear_rect(0.0, 0.0, css_width, css_height);
    Some(context)
}

thread_local! {
    /// One off-screen canvas and its context, reused by every
    /// [`draw_image`]: a new canvas and `getContext` for each picture drawn
    /// (a kernel grid draws dozens at a time) cost more than the copy.
    static SCRATCH: std::cell::RefCell<Option<(HtmlCanvasElement, CanvasRenderingContext2d)>> =
        const { std::cell::RefCell::new(None) };
}

fn scratch() -> Option<(HtmlCanvasElement, CanvasRenderingContext2d)> {
    SCRATCH.with(|slot| {
        if slot.borrow().is_none() {
            let document = web_sys::window()?.document()?;
            let canvas: HtmlCanvasElement = document.create_element("canvas").ok()?.dyn_into().ok()?;
            let context: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
            *slot.borrow_mut() = Some((canvas, context));
        }
        slot.borrow().clone()
    })
}

/// Draws `image` stretched over the rectangle; `smooth` blends between
/// pixels (heatmaps), otherwise they stay crisp squares (images, kernels).
/// The image goes through the shared off-screen canvas at its own
/// resolution (`putImageData` cannot scale), then `drawImage` scales it.
pub fn draw_image(context: &CanvasRenderingContext2d, image: &RgbaImage, rect: (f64, f64, f64, f64), smooth: bool) {
    let Some((canvas, scratch_context)) = scratch() else {
        return;
    };
    if canvas.width() != image.width {
        canvas.set_width(image.width);
    }
    if canvas.height() != image.height {
        canvas.set_height(image.height);
    }
    let Ok(data) =
        web_sys::ImageData::new_with_u8_clamped_array_and_sh(Clamped(&image.pixels), image.width, image.height)
    else {
        return;
    };
    // Every pixel is replaced (putImageData ignores compositing), so what
    // the last picture left needs no clearing.
    if scratch_context.put_image_data(&data, 0.0, 0.0).is_err() {
        return;
    }
    context.set_image_smoothing_enabled(smooth);
    let (x, y, w, h) = rect;
    let (sw, sh) = (f64::from(image.width), f64::from(image.height));
    // Only the picture's part of the scratch canvas, which may be larger.
    let _ = context.draw_image_with_html_canvas_element_and_sw_and_sh_and_dx_and_dy_and_dw_and_dh(
        &canvas, 0.0, 0.0, sw, sh, x, y, w, h,
    );
}
