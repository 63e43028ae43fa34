//! One scene on a canvas with what the detector makes of it: the picture,
//! each grid cell's objectness (cells that doubt there is an object are
//! dimmed), the boxes it reports after the thresholds and NMS, with class
//! and confidence, the real objects as dashed boxes on demand, and the cell
//! the visitor picked. The pure parts (pixels, which cell a click hits,
//! the text alternative) are tested natively.

use leptos::html;
use leptos::prelude::*;
use web_sys::CanvasRenderingContext2d;

use crate::components::canvas::{draw_image, prepare, tag_font, use_element_size};
use crate::components::keyboard::{is_activation, step_cell};
use crate::draw::{css_rgb, Rgb, RgbaImage};
use deepplay_core::data::scenes::{Shape, SCENE_SIZE};
use deepplay_core::detection::{Detection, Truth};
use deepplay_core::models::detector::GRID;

/// Box colours by class (circle, square, triangle): Okabe and Ito's orange,
/// sky blue and reddish purple, told apart with the common colour-vision
/// deficiencies, each with a dark label.
pub const BOX_COLORS: [Rgb; 3] = [[230, 159, 0], [86, 180, 233], [204, 121, 167]];

pub fn class_name(class: usize) -> &'static str {
    Shape::from_class(class).map_or("?", Shape::name)
}

/// A `[3, 64, 64]` picture in [0, 1] as pixels; `None` for any other size.
pub fn scene_image(image: &[f32]) -> Option<RgbaImage> {
    let n = SCENE_SIZE;
    if image.len() != 3 * n * n {
        return None;
    }
    let mut out = RgbaImage::new(n as u32, n as u32);
    for (i, px) in out.pixels.chunks_exact_mut(4).enumerate() {
        for c in 0..3 {
            let v = image[c * n * n + i];
            px[c] = (v.clamp(0.0, 1.0) * 255.0).round() as u8;
        }
        px[3] = 255;
    }
    Some(out)
}

/// The scene pixel (x, y) under a point `(px, py)` of a canvas drawn
/// `side` CSS pixels wide; `None` outside it.
pub fn scene_point(px: f64, py: f64, side: f64) -> Option<(f32, f32)> {
    if side <= 0.0 || !(0.0..side).contains(&px) || !(0.0..side).contains(&py) {
        return None;
    }
    let scale = SCENE_SIZE as f64 / side;
    Some(((px * scale) as f32, (py * scale) as f32))
}

/// The grid cell (row, column) holding scene pixel (x, y).
pub fn cell_of(x: f32, y: f32) -> (usize, usize) {
    let size = GRID.cell_size();
    let last = GRID.cells - 1;
    (((y / size) as usize).min(last), ((x / size) as usize).min(last))
}

/// What a screen reader hears: the boxes found, or that there are none.
pub fn describe(detections: &[Detection]) -> String {
    if detections.is_empty() {
        return "No objects found at this confidence.".into();
    }
    let parts: Vec<String> = detections
        .iter()
        .map(|d| {
            format!(
                "{} {:.0}% at x {:.0} to {:.0}, y {:.0} to {:.0}",
                class_name(d.class),
                d.score * 100.0,
                d.bbox.x0,
                d.bbox.x1,
                d.bbox.y0,
                d.bbox.y1
            )
        })
        .collect();
    format!("{} found: {}.", detections.len(), parts.join("; "))
}

/// What to draw over the picture.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overlay {
    pub detections: Vec<Detection>,
    /// Each cell's objectness, row-major (empty: none drawn).
    pub objectness: Vec<f32>,
    pub truth: Vec<Truth>,
    pub selected: Option<(usize, usize)>,
}

fn draw(context: &CanvasRenderingContext2d, side: f64, image: Option<&RgbaImage>, overlay: &Overlay) {
    match image {
        Some(image) => draw_image(context, image, (0.0, 0.0, side, side), false),
        None => {
            context.set_fill_style_str("#1f2937");
            context.fill_rect(0.0, 0.0, side, side);
        }
    }
    let scale = side / SCENE_SIZE as f64;
    let cell = side / GRID.cells as f64;
    if overlay.objectness.len() == GRID.cells * GRID.cells {
        // Dim each cell by how sure it is that no object's centre is in it:
        // the cells that believe in an object stay lit.
        for (i, &p) in overlay.objectness.iter().enumerate() {
            let (row, col) = (i / GRID.cells, i % GRID.cells);
            let doubt = (1.0 - p.clamp(0.0, 1.0)) * 0.7;
            context.set_fill_style_str(&format!("rgba(0,0,0,{doubt:.3})"));
            context.fill_rect(col as f64 * cell, row as f64 * cell, cell, cell);
        }
        context.set_stroke_style_str("rgba(255,255,255,0.18)");
        context.set_line_width(1.0);
        for k in 1..GRID.cells {
            let at = k as f64 * cell;
            context.begin_path();
            context.move_to(at, 0.0);
            context.line_to(at, side);
            context.move_to(0.0, at);
            context.line_to(side, at);
            context.stroke();
        }
    }
    let dash = js_sys::Array::of2(&5.0.into(), &4.0.into());
    let solid = js_sys::Array::new();
    if !overlay.truth.is_empty() {
        let _ = context.set_line_dash(&dash);
        context.set_line_width(1.5);
        context.set_stroke_style_str("#ffffff");
        for t in &overlay.truth {
            let b = t.bbox;
            context.stroke_rect(
                b.x0 as f64 * scale,
                b.y0 as f64 * scale,
                b.width() as f64 * scale,
                b.height() as f64 * scale,
            );
        }
        let _ = context.set_line_dash(&solid);
    }
    let label_height = tag_height(side);
    context.set_font(&tag_font(label_height - 2.0));
    context.set_text_baseline("top");
    for d in &overlay.detections {
        let color = css_rgb(BOX_COLORS[d.class % BOX_COLORS.len()]);
        let (x0, y0) = ((d.bbox.x0 as f64 * scale).max(0.0), (d.bbox.y0 as f64 * scale).max(0.0));
        let (x1, y1) = ((d.bbox.x1 as f64 * scale).min(side), (d.bbox.y1 as f64 * scale).min(side));
        context.set_line_width(2.0);
        context.set_stroke_style_str(&color);
        context.stroke_rect(x0, y0, (x1 - x0).max(1.0), (y1 - y0).max(1.0));
        let text = format!("{} {:.0}%", class_name(d.class), d.score * 100.0);
        // About 0.6 em a character in a sans-serif face (no text metrics
        // needed for a tag's background).
        let width = text.chars().count() as f64 * (label_height - 2.0) * 0.6 + 6.0;
        // The tag sits above the box, or inside it at the top edge.
        let (tx, ty) = ((x0).min(side - width).max(0.0), if y0 >= label_height { y0 - label_height } else { y0 });
        context.set_fill_style_str(&color);
        context.fill_rect(tx, ty, width, label_height);
        context.set_fill_style_str("#111827");
        let _ = context.fill_text(&text, tx + 3.0, ty + 1.0);
    }
    if let Some((row, col)) = overlay.selected {
        context.set_line_width(2.5);
        context.set_stroke_style_str("#fde047");
        context.stroke_rect(col as f64 * cell + 1.0, row as f64 * cell + 1.0, cell - 2.0, cell - 2.0);
    }
}

/// A box tag's height on a canvas `side` px wide (its text 2 px less).
fn tag_height(side: f64) -> f64 {
    (side / 14.0).clamp(11.0, 15.0)
}

/// The scene pixel at the centre of grid cell (row, column): where a
/// keyboard "click" on a cell lands.
pub fn cell_centre(row: usize, col: usize) -> (f32, f32) {
    let size = GRID.cell_size();
    ((col as f32 + 0.5) * size, (row as f32 + 0.5) * size)
}

/// The keyboard's cell cursor: a dashed outline, light over dark.
fn draw_cursor(context: &CanvasRenderingContext2d, side: f64, (row, col): (usize, usize)) {
    let cell = side / GRID.cells as f64;
    let (x, y) = (col as f64 * cell, row as f64 * cell);
    let _ = context.set_line_dash(&js_sys::Array::of2(&4.0.into(), &3.0.into()));
    context.set_line_width(3.0);
    context.set_stroke_style_str("#111827");
    context.stroke_rect(x + 2.0, y + 2.0, cell - 4.0, cell - 4.0);
    context.set_line_width(1.5);
    context.set_stroke_style_str("#ffffff");
    context.stroke_rect(x + 2.0, y + 2.0, cell - 4.0, cell - 4.0);
    let _ = context.set_line_dash(&js_sys::Array::new());
}

/// A square canvas as wide as its column. `on_point` gets the scene pixel
/// a click or tap landed on. Focused, the arrow keys move a cell cursor and
/// Enter or Space acts on its cell as a click on its centre would; with
/// `pick_on_move` every move acts too (for scenes where acting only shows
/// the cell, so the keyboard reads the cells as quickly as a pointer).
#[component]
pub fn SceneView(
    #[prop(into)] image: Signal<Option<RgbaImage>>,
    #[prop(into)] overlay: Signal<Overlay>,
    #[prop(into)] label: Signal<String>,
    #[prop(into)] on_point: Callback<(f32, f32)>,
    #[prop(optional)] testid: &'static str,
    #[prop(optional)] pick_on_move: bool,
) -> impl IntoView {
    let cursor = RwSignal::new(None::<(usize, usize)>);
    let wrapper = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let size = use_element_size(wrapper);
    Effect::new(move |_| {
        let (width, _) = size.get();
        let Some(element) = canvas.get() else {
            return;
        };
        let cursor = cursor.get();
        image.with(|image| {
            overlay.with(|overlay| {
                if let Some(context) = prepare(&element, width, width) {
                    draw(&context, width, image.as_ref(), overlay);
                    if let Some(cell) = cursor {
                        draw_cursor(&context, width, cell);
                    }
                }
            })
        });
    });
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let key = ev.key();
        if let Some(cell) = step_cell(cursor.get_untracked(), GRID.cells, GRID.cells, &key) {
            ev.prevent_default();
            cursor.set(Some(cell));
            if pick_on_move {
                on_point.run(cell_centre(cell.0, cell.1));
            }
        } else if is_activation(&key) {
            ev.prevent_default();
            let (row, col) = cursor.get_untracked().unwrap_or((0, 0));
            cursor.set(Some((row, col)));
            on_point.run(cell_centre(row, col));
        }
    };
    let on_click = move |ev: web_sys::MouseEvent| {
        let side = size.get_untracked().0;
        if let Some(point) = scene_point(f64::from(ev.offset_x()), f64::from(ev.offset_y()), side) {
            on_point.run(point);
        }
    };
    view! {
        <div class="scene-view" node_ref=wrapper>
            <canvas
                node_ref=canvas
                data-testid=testid
                data-count=move || overlay.with(|o| o.detections.len())
                role="img"
                aria-label=move || label.get()
                style:height=move || format!("{}px", size.get().0)
                tabindex="0"
                aria-keyshortcuts="ArrowUp ArrowDown ArrowLeft ArrowRight Enter"
                on:click=on_click
                on:keydown=on_key
                on:blur=move |_| cursor.set(None)
            ></canvas>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tag_font_is_warmed_at_start() {
        let warmed = crate::components::canvas::canvas_fonts();
        for side in (0..2000).map(f64::from) {
            let font = tag_font(tag_height(side) - 2.0);
            assert!(warmed.contains(&font), "{font} (side {side})");
        }
    }
    use deepplay_core::detection::BBox;

    #[test]
    fn pictures_become_pixels() {
        let n = SCENE_SIZE * SCENE_SIZE;
        let mut image = vec![0.0; 3 * n];
        image[0] = 1.0; // red of the top-left pixel
        image[2 * n + 1] = 0.5; // blue of the next
        let pixels = scene_image(&image).unwrap();
        assert_eq!(pixels.pixel(0, 0), [255, 0, 0, 255]);
        assert_eq!(pixels.pixel(1, 0), [0, 0, 128, 255]);
        assert!(scene_image(&image[1..]).is_none());
    }

    #[test]
    fn clicks_find_their_pixel_and_cell() {
        assert_eq!(scene_point(128.0, 32.0, 256.0), Some((32.0, 8.0)));
        assert_eq!(scene_point(256.0, 10.0, 256.0), None);
        assert_eq!(scene_point(-1.0, 10.0, 256.0), None);
        assert_eq!(scene_point(1.0, 1.0, 0.0), None);
        assert_eq!(cell_of(32.0, 8.0), (1, 4));
        assert_eq!(cell_of(63.9, 0.0), (0, 7));
        assert_eq!(cell_of(64.0, 64.0), (7, 7));
    }

    #[test]
    fn a_cells_centre_lies_in_that_cell() {
        for row in 0..GRID.cells {
            for col in 0..GRID.cells {
                let (x, y) = cell_centre(row, col);
                assert_eq!(cell_of(x, y), (row, col));
            }
        }
        assert_eq!(cell_centre(0, 0), (4.0, 4.0));
    }

    #[test]
    fn the_text_alternative_lists_the_boxes() {
        assert!(describe(&[]).contains("No objects"));
        let d = Detection {
            bbox: BBox::new(10.0, 12.0, 30.0, 32.0),
            class: 2,
            score: 0.876,
        };
        assert_eq!(describe(&[d]), "1 found: triangle 88% at x 10 to 30, y 12 to 32.");
    }
}
