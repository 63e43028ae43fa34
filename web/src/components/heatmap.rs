//! A square heatmap (an [`RgbaImage`] stretched smoothly over the canvas)
//! with optional points on top: the decision boundary under the data, or a
//! discriminator's view under generated samples.

use leptos::html;
use leptos::prelude::*;

use super::canvas::{draw_image, prepare, use_element_size};
use crate::draw::{css_rgb, Rgb, RgbaImage};

/// A point drawn over the heatmap; `x` and `y` in [0, 1] of the view, with
/// `y` growing downwards like the image rows.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Dot {
    pub x: f32,
    pub y: f32,
    pub color: Rgb,
}

fn paint(canvas: &web_sys::HtmlCanvasElement, size: (f64, f64), image: Option<&RgbaImage>, dots: &[Dot]) {
    let (width, height) = size;
    let Some(ctx) = prepare(canvas, width, height) else {
        return;
    };
    match image {
        Some(image) => draw_image(&ctx, image, (0.0, 0.0, width, height), true),
        None => {
            ctx.set_fill_style_str("#f4f6fa");
            ctx.fill_rect(0.0, 0.0, width, height);
        }
    }
    let radius = (width.min(height) / 110.0).clamp(2.5, 4.5);
    ctx.set_line_width(1.2);
    ctx.set_stroke_style_str("rgba(255,255,255,0.95)");
    for dot in dots {
        let x = f64::from(dot.x) * width;
        let y = f64::from(dot.y) * height;
        ctx.set_fill_style_str(&css_rgb(dot.color));
        ctx.begin_path();
        // An arc on a fresh path cannot fail.
        let _ = ctx.arc(x, y, radius, 0.0, std::f64::consts::TAU);
        ctx.fill();
        ctx.stroke();
    }
}

/// A square canvas showing `image`, with `dots` over it.
#[component]
pub fn Heatmap(
    #[prop(into)] image: Signal<Option<RgbaImage>>,
    /// Points over the heatmap (none by default).
    #[prop(optional, into)]
    dots: Option<Signal<Vec<Dot>>>,
    /// The `data-testid` of the canvas.
    testid: &'static str,
    /// What the heatmap shows, for screen readers.
    label: &'static str,
) -> impl IntoView {
    let frame = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let size = use_element_size(frame);
    Effect::new(move |_| {
        let size = size.get();
        let Some(canvas) = canvas.get() else {
            return;
        };
        image.with(|image| match dots {
            Some(dots) => dots.with(|dots| paint(&canvas, size, image.as_ref(), dots)),
            None => paint(&canvas, size, image.as_ref(), &[]),
        });
    });
    view! {
        <div class="heatmap-frame" node_ref=frame>
            <canvas node_ref=canvas data-testid=testid role="img" aria-label=label></canvas>
        </div>
    }
}
