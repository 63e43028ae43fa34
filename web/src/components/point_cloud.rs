//! A square scatter of 2-D points over [-extent, extent]^2: the Diffusion
//! lab's data, its noised copies and its samples, with faint reference
//! points under them, optional arrows from each point, and (for drawing a
//! dataset) clicks and drags reported in data units.

use leptos::html;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::canvas::{prepare, use_element_size};
use super::keyboard::{Pen, PenCursor, PEN_KEYS};
use crate::draw::{data_to_pixel, Rgb};

/// Arrows are drawn for every this-many-th point, so that they stay legible.
const ARROW_STRIDE: usize = 3;

/// Where a pointer event falls, in data units (y up), if inside the canvas.
fn event_point(ev: &web_sys::PointerEvent, extent: f32) -> Option<[f32; 2]> {
    let canvas: web_sys::Element = ev.target()?.dyn_into().ok()?;
    let rect = canvas.get_bounding_client_rect();
    if rect.width() < 1.0 || rect.height() < 1.0 {
        return None;
    }
    let fx = (f64::from(ev.client_x()) - rect.left()) / rect.width();
    let fy = (f64::from(ev.client_y()) - rect.top()) / rect.height();
    fraction_point(fx, fy, extent)
}

/// The data point at fractions `(fx, fy)` of the canvas from its top left
/// (the data's y grows upwards); `None` outside `[-extent, extent]`.
fn fraction_point(fx: f64, fy: f64, extent: f32) -> Option<[f32; 2]> {
    let to_data = |f: f64| ((2.0 * f - 1.0) * f64::from(extent)) as f32;
    let point = [to_data(fx), -to_data(fy)];
    point.iter().all(|v| v.abs() <= extent).then_some(point)
}

/// The keyboard pen's grid over a drawing area.
const PEN_CELLS: usize = 24;

/// What a [`PointCloud`] draws besides its points.
struct Extras<'a> {
    reference: &'a [f32],
    arrows: &'a [f32],
    arrow_scale: f32,
    lines: &'a [Vec<f32>],
    /// Leave the background clear, for a picture under the canvas.
    transparent: bool,
}

fn paint(
    canvas: &web_sys::HtmlCanvasElement,
    size: (f64, f64),
    extent: f32,
    points: &[f32],
    color: Rgb,
    extras: Extras,
) {
    let Extras {
        reference,
        arrows,
        arrow_scale,
        lines,
        transparent,
    } = extras;
    let (width, height) = size;
    let Some(ctx) = prepare(canvas, width, height) else {
        return;
    };
    if transparent {
        ctx.clear_rect(0.0, 0.0, width, height);
    } else {
        ctx.set_fill_style_str("#f7f8fb");
        ctx.fill_rect(0.0, 0.0, width, height);
    }
    // Axes through the origin and the unit circle (one standard deviation
    // of the noise), so that scale reads at a glance.
    let px = |x: f32| data_to_pixel(x, extent, width, false);
    let py = |y: f32| data_to_pixel(y, extent, height, true);
    ctx.set_stroke_style_str("#dde1ea");
    ctx.set_line_width(1.0);
    ctx.begin_path();
    ctx.move_to(px(0.0), 0.0);
    ctx.line_to(px(0.0), height);
    ctx.move_to(0.0, py(0.0));
    ctx.line_to(width, py(0.0));
    ctx.stroke();
    ctx.begin_path();
    let _ = ctx.arc(px(0.0), py(0.0), px(1.0) - px(0.0), 0.0, std::f64::consts::TAU);
    ctx.stroke();

    let radius = (width / 160.0).clamp(1.2, 2.6);
    let dots = |data: &[f32], style: &str| {
        ctx.set_fill_style_str(style);
        ctx.begin_path();
        for p in data.chunks_exact(2) {
            if p[0].is_finite() && p[1].is_finite() {
                let (x, y) = (px(p[0]), py(p[1]));
                ctx.move_to(x + radius, y);
                let _ = ctx.arc(x, y, radius, 0.0, std::f64::consts::TAU);
            }
        }
        ctx.fill();
    };
    dots(reference, "rgba(120,128,145,0.35)");
    let [r, g, b] = color;
    // Polylines under the points (a grid's rows and columns, say).
    if !lines.is_empty() {
        ctx.set_stroke_style_str(&format!("rgba({r},{g},{b},0.45)"));
        ctx.set_line_width(1.0);
        ctx.begin_path();
        for line in lines {
            let mut pen_down = false;
            for p in line.chunks_exact(2) {
                if !(p[0].is_finite() && p[1].is_finite()) {
                    pen_down = false;
                    continue;
                }
                let (x, y) = (px(p[0]), py(p[1]));
                if pen_down {
                    ctx.line_to(x, y);
                } else {
                    ctx.move_to(x, y);
                    pen_down = true;
                }
            }
        }
        ctx.stroke();
    }
    dots(points, &format!("rgba({r},{g},{b},0.8)"));
    // Over the points, so that they show where the crowd is pushed.
    if !arrows.is_empty() {
        ctx.set_stroke_style_str("rgba(213,94,0,0.85)");
        ctx.set_line_width(1.3);
        ctx.begin_path();
        for (p, a) in points.chunks_exact(2).zip(arrows.chunks_exact(2)).step_by(ARROW_STRIDE) {
            let (x0, y0) = (p[0], p[1]);
            let (x1, y1) = (x0 + arrow_scale * a[0], y0 + arrow_scale * a[1]);
            if [x0, y0, x1, y1].iter().all(|v| v.is_finite()) {
                ctx.move_to(px(x0), py(y0));
                ctx.line_to(px(x1), py(y1));
            }
        }
        ctx.stroke();
    }
}

/// The points `points` (flat `[x0, y0, x1, y1, ..]`) over faint
/// `reference` points; `arrows` (same layout as `points`) are drawn from
/// each point, times `arrow_scale`. With `on_draw`, pressing and dragging
/// on the canvas reports points in data units.
#[component]
pub fn PointCloud(
    #[prop(into)] points: Signal<Vec<f32>>,
    #[prop(optional, into)] reference: Option<Signal<Vec<f32>>>,
    #[prop(optional, into)] arrows: Option<Signal<Vec<f32>>>,
    #[prop(default = 0.0)] arrow_scale: f32,
    #[prop(default = [41, 128, 185])] color: Rgb,
    /// Polylines (each flat `[x0, y0, ..]`) drawn under the points.
    #[prop(optional, into)]
    lines: Option<Signal<Vec<Vec<f32>>>>,
    /// No background: for a heatmap stacked under the canvas.
    #[prop(optional)]
    transparent: bool,
    /// The data range shown on both axes: [-extent, extent].
    extent: f32,
    /// The `data-testid` of the canvas.
    testid: &'static str,
    /// What it shows, for screen readers.
    #[prop(into)]
    label: Signal<String>,
    #[prop(optional, into)] on_draw: Option<Callback<[f32; 2]>>,
) -> impl IntoView {
    let frame = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let size = use_element_size(frame);
    Effect::new(move |_| {
        let size = size.get();
        let Some(canvas) = canvas.get() else {
            return;
        };
        let reference = reference.map(|r| r.get()).unwrap_or_default();
        let arrows = arrows.map(|a| a.get()).unwrap_or_default();
        let lines = lines.map(|l| l.get()).unwrap_or_default();
        let extras = Extras {
            reference: &reference,
            arrows: &arrows,
            arrow_scale,
            lines: &lines,
            transparent,
        };
        points.with(|p| paint(&canvas, size, extent, p, color, extras));
    });
    let drawing = StoredValue::new(false);
    let report = move |ev: &web_sys::PointerEvent| {
        if let (Some(callback), Some(point)) = (on_draw, event_point(ev, extent)) {
            callback.run(point);
        }
    };
    let on_down = move |ev: web_sys::PointerEvent| {
        if on_draw.is_some() {
            ev.prevent_default();
            drawing.set_value(true);
            report(&ev);
        }
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        if drawing.get_value() {
            report(&ev);
        }
    };
    let on_up = move |_: web_sys::PointerEvent| drawing.set_value(false);
    // The keyboard draws with a pen: a point at each cell it inks.
    let pen = RwSignal::new(Pen::default());
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let Some(callback) = on_draw else {
            return;
        };
        let Some((after, ink)) = pen.get_untracked().key(PEN_CELLS, &ev.key()) else {
            return;
        };
        ev.prevent_default();
        pen.set(after);
        if let (true, Some((row, col))) = (ink, after.cell) {
            let fraction = |i: usize| (i as f64 + 0.5) / PEN_CELLS as f64;
            if let Some(point) = fraction_point(fraction(col), fraction(row), extent) {
                callback.run(point);
            }
        }
    };
    let aria_label = move || match on_draw {
        Some(_) => format!("{}. {PEN_KEYS}", label.get()),
        None => label.get(),
    };
    view! {
        <div class="point-cloud-frame" class:drawable=on_draw.is_some() class:transparent=transparent node_ref=frame>
            <canvas
                node_ref=canvas
                data-testid=testid
                role="img"
                aria-label=aria_label
                tabindex=on_draw.map(|_| "0")
                data-points=move || points.with(|p| p.len() / 2)
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:pointerleave=on_up
                on:keydown=on_key
                on:blur=move |_| pen.set(Pen::default())
            ></canvas>
            {on_draw.map(|_| view! { <PenCursor pen=pen cells=PEN_CELLS /> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions_of_the_canvas_become_data_points_with_y_up() {
        assert_eq!(fraction_point(0.5, 0.5, 2.0), Some([0.0, 0.0]));
        assert_eq!(fraction_point(0.0, 0.0, 2.0), Some([-2.0, 2.0]), "the top left");
        assert_eq!(fraction_point(1.0, 1.0, 2.0), Some([2.0, -2.0]), "the bottom right");
        assert_eq!(fraction_point(1.1, 0.5, 2.0), None);
        // Every cell of the keyboard's pen lands inside the area.
        for i in 0..PEN_CELLS {
            let f = (i as f64 + 0.5) / PEN_CELLS as f64;
            assert!(fraction_point(f, f, 2.0).is_some());
        }
    }
}
