//! A grid of small images on one canvas (kernels, feature maps, samples),
//! wrapping to the container's width, pixels kept crisp.

use leptos::html;
use leptos::prelude::*;

use super::canvas::{draw_image, prepare, use_element_size};
use crate::draw::RgbaImage;

const GAP: f64 = 8.0;
const CAPTION: f64 = 16.0;

/// How many columns of `cell`-wide images fit in `width`, at least one.
pub fn grid_columns(width: f64, cell: f64) -> usize {
    (((width + GAP) / (cell + GAP)).floor() as usize).max(1)
}

fn paint(canvas: &web_sys::HtmlCanvasElement, width: f64, cell: f64, images: &[(String, RgbaImage)]) -> f64 {
    let columns = grid_columns(width, cell);
    let has_captions = images.iter().any(|(c, _)| !c.is_empty());
    let row_height = cell + if has_captions { CAPTION } else { 0.0 } + GAP;
    let rows = images.len().div_ceil(columns);
    let height = (rows as f64 * row_height - GAP).max(cell);
    let Some(ctx) = prepare(canvas, width, height) else {
        return height;
    };
    ctx.set_font(super::canvas::SMALL_FONT);
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    ctx.set_fill_style_str("#4a5568");
    for (i, (caption, image)) in images.iter().enumerate() {
        let x = (i % columns) as f64 * (cell + GAP);
        let y = (i / columns) as f64 * row_height;
        draw_image(&ctx, image, (x, y, cell, cell), false);
        if !caption.is_empty() {
            let _ = ctx.fill_text(caption, x + cell / 2.0, y + cell + 2.0);
        }
    }
    height
}

/// Images with optional captions, `cell` CSS pixels square each.
#[component]
pub fn ImageGrid(
    #[prop(into)] images: Signal<Vec<(String, RgbaImage)>>,
    /// The `data-testid` of the canvas.
    testid: &'static str,
    /// What the images are, for screen readers.
    label: &'static str,
    #[prop(default = 56.0)] cell: f64,
) -> impl IntoView {
    let frame = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let size = use_element_size(frame);
    let (height, set_height) = signal(cell);
    Effect::new(move |_| {
        let (width, _) = size.get();
        let Some(canvas) = canvas.get() else {
            return;
        };
        let h = images.with(|images| paint(&canvas, width, cell, images));
        set_height.set(h);
    });
    view! {
        <div class="image-grid" node_ref=frame>
            <canvas
                node_ref=canvas
                data-testid=testid
                data-count=move || images.with(Vec::len)
                role="img"
                aria-label=label
                style:height=move || format!("{}px", height.get())
            ></canvas>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fill_the_width() {
        assert_eq!(grid_columns(56.0, 56.0), 1);
        assert_eq!(grid_columns(120.0, 56.0), 2);
        assert_eq!(grid_columns(10.0, 56.0), 1);
        assert_eq!(grid_columns(640.0, 56.0), 10);
    }
}
