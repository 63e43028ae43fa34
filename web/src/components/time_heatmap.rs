//! A matrix over time: one row per hidden unit, one column per time step,
//! cells drawn as sharp blocks on a fixed colour scale (so a gate of 0.9
//! looks the same at step 10 and at step 10,000). Hovering a cell shows its
//! unit, step and value, and tells the page which cell it is on.

use leptos::html;
use leptos::prelude::*;

use super::canvas::{draw_image, prepare, use_element_size};
use super::keyboard::step_cell;
use crate::draw::{diverging, sequential, RgbaImage};

/// The colour scale of a [`TimeHeatmap`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeScale {
    /// 0 to 1 (a gate), on the sequential ramp.
    Unit,
    /// -1 to 1 (a tanh state), blue through white to red.
    Signed,
}

/// A `[T, H]` tensor (time-major, as the trainer sends it).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TimeMatrix {
    pub steps: usize,
    pub units: usize,
    pub data: Vec<f32>,
}

impl TimeMatrix {
    /// From a `[T, H]` shape and its data; `None` if they disagree.
    pub fn new(shape: &[usize], data: Vec<f32>) -> Option<Self> {
        let [steps, units] = shape[..] else {
            return None;
        };
        (steps * units == data.len() && steps > 0 && units > 0).then_some(Self { steps, units, data })
    }

    pub fn at(&self, unit: usize, step: usize) -> Option<f32> {
        (unit < self.units && step < self.steps).then(|| self.data[step * self.units + unit])
    }

    /// Rows are units, columns are steps.
    pub fn image(&self, scale: TimeScale) -> RgbaImage {
        let mut image = RgbaImage::new(self.steps as u32, self.units as u32);
        for unit in 0..self.units {
            for step in 0..self.steps {
                let v = self.data[step * self.units + unit];
                let rgb = match scale {
                    TimeScale::Unit => sequential(v.clamp(0.0, 1.0)),
                    TimeScale::Signed => diverging(v, 1.0),
                };
                let i = 4 * (unit * self.steps + step);
                image.pixels[i..i + 4].copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
            }
        }
        image
    }
}

/// The cell under a pointer at `(x, y)` in a `width` x `height` view.
pub fn cell_at(matrix: &TimeMatrix, x: f64, y: f64, width: f64, height: f64) -> Option<(usize, usize)> {
    if width <= 0.0 || height <= 0.0 || x < 0.0 || y < 0.0 || x >= width || y >= height {
        return None;
    }
    let step = (x / width * matrix.steps as f64) as usize;
    let unit = (y / height * matrix.units as f64) as usize;
    (step < matrix.steps && unit < matrix.units).then_some((unit, step))
}

/// A hovered cell: (unit, step).
pub type Cell = (usize, usize);

#[component]
pub fn TimeHeatmap(
    #[prop(into)] matrix: Signal<Option<TimeMatrix>>,
    scale: TimeScale,
    /// The `data-testid` of the canvas.
    testid: &'static str,
    /// What it shows, for screen readers and the caption.
    label: &'static str,
    /// Called with the hovered cell, `None` when the pointer leaves.
    #[prop(optional, into)]
    on_hover: Option<Callback<Option<Cell>>>,
    /// What rows and columns are, for the hover readout, counted from 0
    /// (for example `("position", "dimension")`); by default "unit" and
    /// "step", steps counted from 1.
    #[prop(optional)]
    axes: Option<(&'static str, &'static str)>,
) -> impl IntoView {
    let frame = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let size = use_element_size(frame);
    let hovered = RwSignal::new(None::<Cell>);
    let paint = move || {
        let (width, height) = size.get_untracked();
        let Some(canvas) = canvas.get_untracked() else {
            return;
        };
        let Some(ctx) = prepare(&canvas, width, height) else {
            return;
        };
        matrix.with_untracked(|matrix| match matrix {
            Some(m) => draw_image(&ctx, &m.image(scale), (0.0, 0.0, width, height), false),
            None => {
                ctx.set_fill_style_str("#f4f6fa");
                ctx.fill_rect(0.0, 0.0, width, height);
            }
        });
    };
    Effect::new(move |_| {
        size.track();
        matrix.track();
        canvas.track();
        // Each heatmap paints in a task of its own, so that a snapshot that
        // updates five of them does not paint them all in its message
        // handler (the main thread must stay under 50 ms a task).
        set_timeout(paint, std::time::Duration::ZERO);
    });
    let on_move = move |ev: web_sys::PointerEvent| {
        let (width, height) = size.get_untracked();
        let cell = matrix.with_untracked(|m| {
            m.as_ref()
                .and_then(|m| cell_at(m, f64::from(ev.offset_x()), f64::from(ev.offset_y()), width, height))
        });
        hovered.set(cell);
        if let Some(on_hover) = on_hover {
            on_hover.run(cell);
        }
    };
    let clear = move || {
        hovered.set(None);
        if let Some(on_hover) = on_hover {
            on_hover.run(None);
        }
    };
    // The arrow keys walk the cells of a focused heatmap as a pointer would.
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let (units, steps) = matrix.with_untracked(|m| m.as_ref().map_or((0, 0), |m| (m.units, m.steps)));
        let Some(cell) = step_cell(hovered.get_untracked(), units, steps, &ev.key()) else {
            return;
        };
        ev.prevent_default();
        hovered.set(Some(cell));
        if let Some(on_hover) = on_hover {
            on_hover.run(Some(cell));
        }
    };
    let readout = move || {
        let (unit, step) = hovered.get()?;
        let value = matrix.with(|m| m.as_ref().and_then(|m| m.at(unit, step)))?;
        Some(match axes {
            Some((rows, columns)) => format!("{rows} {unit}, {columns} {step}: {value:.3}"),
            None => format!("unit {unit}, step {}: {value:.3}", step + 1),
        })
    };
    view! {
        <figure class="time-heatmap">
            <div class="time-heatmap-frame" node_ref=frame>
                <canvas
                    node_ref=canvas
                    data-testid=testid
                    role="img"
                    aria-label=label
                    tabindex="0"
                    on:pointermove=on_move
                    on:pointerleave=move |_| clear()
                    on:keydown=on_key
                    on:blur=move |_| clear()
                ></canvas>
            </div>
            <figcaption>
                <span class="chart-title">{label}</span>
                <span class="readout" aria-live="polite">
                    {move || readout().unwrap_or_else(|| "hover a cell, or focus the map and use the arrow keys, for its value".into())}
                </span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_matrix_draws_units_as_rows_and_steps_as_columns() {
        // T = 3 steps, H = 2 units; unit 1 is 1.0 at step 2 only.
        let m = TimeMatrix::new(&[3, 2], vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0]).unwrap();
        assert_eq!(m.at(1, 2), Some(1.0));
        assert_eq!(m.at(2, 0), None);
        let image = m.image(TimeScale::Unit);
        assert_eq!((image.width, image.height), (3, 2));
        assert_ne!(image.pixel(2, 1), image.pixel(1, 1));
        assert_eq!(image.pixel(0, 0), image.pixel(1, 1));
        assert!(TimeMatrix::new(&[3, 2], vec![0.0; 5]).is_none());
    }

    #[test]
    fn the_pointer_finds_its_cell() {
        let m = TimeMatrix::new(&[10, 4], vec![0.0; 40]).unwrap();
        assert_eq!(cell_at(&m, 0.0, 0.0, 100.0, 40.0), Some((0, 0)));
        assert_eq!(cell_at(&m, 99.9, 39.9, 100.0, 40.0), Some((3, 9)));
        assert_eq!(cell_at(&m, 55.0, 15.0, 100.0, 40.0), Some((1, 5)));
        assert_eq!(cell_at(&m, 100.0, 10.0, 100.0, 40.0), None);
    }
}
