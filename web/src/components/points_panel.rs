//! The panel where a visitor draws a 2-D dataset of their own (the
//! Diffusion and GAN labs'): a drawing area, how many points it holds, and
//! buttons to train on them or start again. The page decides what training
//! on them means (`on_use`); a drawing too small is refused here, with the
//! reason, and the run goes on with the data it had.

use leptos::prelude::*;

use super::PointCloud;
use deepplay_core::data::points::{EXTENT, MAX_DRAWN_POINTS, MIN_DRAWN_POINTS};

/// A drawn point is added only this far (data units) from the last one, so
/// that a drag lays a trail rather than a pile.
const DRAW_SPACING: f32 = 0.08;

/// What the count line says about a drawing of `n` points.
pub fn drawing_message(n: usize) -> String {
    if n < MIN_DRAWN_POINTS {
        format!("{n} points: draw at least {MIN_DRAWN_POINTS} to train on them.")
    } else if n >= MAX_DRAWN_POINTS {
        format!("{n} points, the most a drawing holds.")
    } else {
        format!("{n} points.")
    }
}

#[component]
pub fn PointsPanel(
    /// The points drawn so far, in data units (kept by the page, so that
    /// the panel can close and open again without losing them).
    drawing: RwSignal<Vec<[f32; 2]>>,
    /// Called with a drawing big enough to train on.
    #[prop(into)]
    on_use: Callback<Vec<[f32; 2]>>,
    /// Where a refusal is shown.
    page_error: RwSignal<Option<String>>,
    /// The line under the title: what the drawing is for.
    note: &'static str,
) -> impl IntoView {
    let add_point = move |p: [f32; 2]| {
        drawing.update(|points| {
            let far = points
                .last()
                .is_none_or(|q| (q[0] - p[0]).hypot(q[1] - p[1]) >= DRAW_SPACING);
            if far && points.len() < MAX_DRAWN_POINTS {
                points.push(p);
            }
        });
    };
    let drawing_points = Signal::derive(move || drawing.with(|d| d.iter().flatten().copied().collect::<Vec<f32>>()));
    let use_drawing = move |_| {
        let points = drawing.get_untracked();
        if points.len() < MIN_DRAWN_POINTS {
            page_error.set(Some(format!(
                "A drawn dataset needs at least {MIN_DRAWN_POINTS} points to have a shape to learn; it has {}. \
                 Click or drag on the drawing area to add more.",
                points.len()
            )));
            return;
        }
        page_error.set(None);
        on_use.run(points);
    };
    view! {
        <section class="panel drawing-panel" aria-labelledby="drawing-title">
            <h2 id="drawing-title">"Your own points"</h2>
            <p class="note">{note}</p>
            <PointCloud
                points=drawing_points
                extent=EXTENT
                testid="draw-points"
                label="The drawing area: the points you drew"
                color=[213, 94, 0]
                on_draw=Callback::new(add_point)
            />
            <p class="note" data-testid="drawing-count">{move || drawing_message(drawing.with(Vec::len))}</p>
            <div class="sample-actions">
                <button type="button" class="button primary" data-testid="use-drawing" on:click=use_drawing>
                    "Train on these points"
                </button>
                <button type="button" class="button" data-testid="clear-drawing" on:click=move |_| drawing.set(Vec::new())>
                    "Clear"
                </button>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_count_line_says_when_a_drawing_can_train() {
        assert_eq!(drawing_message(3), "3 points: draw at least 20 to train on them.");
        assert_eq!(drawing_message(20), "20 points.");
        assert_eq!(drawing_message(400), "400 points, the most a drawing holds.");
    }
}
