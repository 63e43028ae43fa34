//! Arrow keys over a chart's grid of cells, so that whatever a pointer can
//! pick on a canvas (a heatmap's value, a feature map's receptive field, a
//! detector's cell) a keyboard can pick too, and whatever it can draw (a
//! digit, a cloud of points) a keyboard can draw too, with a pen. Each
//! canvas is focusable (`tabindex="0"`) and passes its keys here; the pure
//! parts are tested natively.

use leptos::prelude::*;

/// The cell (row, column) that `key` moves `current` to in a `rows` x
/// `cols` grid: arrows move one cell and stop at the edges, Home and End
/// go to the first and last cell of the row, PageUp and PageDown to the
/// top and bottom of the column. The first key pressed starts at the
/// top-left cell; a cell left over from a larger grid is clamped into this
/// one. `None` for any other key (the browser keeps it, e.g. Tab) or an
/// empty grid.
pub fn step_cell(current: Option<(usize, usize)>, rows: usize, cols: usize, key: &str) -> Option<(usize, usize)> {
    let (last_row, last_col) = (rows.checked_sub(1)?, cols.checked_sub(1)?);
    let Some((row, col)) = current.map(|(r, c)| (r.min(last_row), c.min(last_col))) else {
        return is_move(key).then_some((0, 0));
    };
    Some(match key {
        "ArrowUp" => (row.saturating_sub(1), col),
        "ArrowDown" => ((row + 1).min(last_row), col),
        "ArrowLeft" => (row, col.saturating_sub(1)),
        "ArrowRight" => (row, (col + 1).min(last_col)),
        "Home" => (row, 0),
        "End" => (row, last_col),
        "PageUp" => (0, col),
        "PageDown" => (last_row, col),
        _ => return None,
    })
}

/// One row of `rows` picked with the keyboard: down and up move one row,
/// Home and End go to the first and last. The first press of Down starts
/// at the top, of Up at the bottom.
pub fn step_selection(current: Option<usize>, rows: usize, key: &str) -> Option<usize> {
    let last = rows.checked_sub(1)?;
    let current = current.map(|c| c.min(last));
    match key {
        "ArrowDown" => Some(current.map_or(0, |c| (c + 1).min(last))),
        "ArrowUp" => Some(current.map_or(last, |c| c.saturating_sub(1))),
        "Home" => Some(0),
        "End" => Some(last),
        _ => None,
    }
}

/// Whether `key` moves a cell cursor (so the page must not also scroll).
fn is_move(key: &str) -> bool {
    matches!(
        key,
        "ArrowUp" | "ArrowDown" | "ArrowLeft" | "ArrowRight" | "Home" | "End" | "PageUp" | "PageDown"
    )
}

/// Whether `key` acts on the cell under the cursor, as a click would.
pub fn is_activation(key: &str) -> bool {
    matches!(key, "Enter" | " ")
}

/// A keyboard's pen over a `cells` x `cells` grid laid on a drawing
/// surface: where it is (none until a key is pressed) and whether it is
/// down, drawing as it moves.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Pen {
    pub cell: Option<(usize, usize)>,
    pub down: bool,
}

impl Pen {
    /// What `key` does to the pen on a `cells`-wide grid: the pen after it
    /// and whether to ink the pen's cell. Enter or Space puts the pen down
    /// (inking where it is) or lifts it; the arrows, Home, End, PageUp and
    /// PageDown move it, inking each cell it reaches while down. The first
    /// key shows the pen in the middle. `None`: not a pen key.
    pub fn key(self, cells: usize, key: &str) -> Option<(Pen, bool)> {
        if cells == 0 {
            return None;
        }
        let Some(cell) = self.cell else {
            return (is_move(key) || is_activation(key)).then_some((
                Pen {
                    cell: Some((cells / 2, cells / 2)),
                    down: false,
                },
                false,
            ));
        };
        if is_activation(key) {
            let down = !self.down;
            return Some((Pen { cell: Some(cell), down }, down));
        }
        let moved = step_cell(Some(cell), cells, cells, key)?;
        Some((
            Pen {
                cell: Some(moved),
                down: self.down,
            },
            self.down && moved != cell,
        ))
    }
}

/// The pen's cell on its surface, drawn over the canvas (whose parent must
/// be positioned): a dashed square, solid while the pen is down. Hidden
/// until a key is pressed and again when the surface loses focus.
#[component]
pub fn PenCursor(#[prop(into)] pen: Signal<Pen>, cells: usize) -> impl IntoView {
    let percent = move |i: usize| format!("{:.4}%", i as f64 * 100.0 / cells.max(1) as f64);
    view! {
        <span
            class="pen-cursor"
            class:down=move || pen.get().down
            class:hidden=move || pen.get().cell.is_none()
            aria-hidden="true"
            style:left=move || percent(pen.get().cell.map_or(0, |(_, col)| col))
            style:top=move || percent(pen.get().cell.map_or(0, |(row, _)| row))
            style:width=percent(1)
            style:height=percent(1)
        ></span>
    }
}

/// What a screen reader is told of a pen surface's keys.
pub const PEN_KEYS: &str = "Keyboard: arrow keys move the pen, Enter or Space puts it down or lifts it.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrows_walk_the_grid_and_stop_at_its_edges() {
        assert_eq!(
            step_cell(None, 3, 4, "ArrowRight"),
            Some((0, 0)),
            "the first key starts at the top left"
        );
        assert_eq!(step_cell(Some((0, 0)), 3, 4, "ArrowRight"), Some((0, 1)));
        assert_eq!(step_cell(Some((0, 3)), 3, 4, "ArrowRight"), Some((0, 3)));
        assert_eq!(step_cell(Some((0, 2)), 3, 4, "ArrowLeft"), Some((0, 1)));
        assert_eq!(step_cell(Some((0, 0)), 3, 4, "ArrowLeft"), Some((0, 0)));
        assert_eq!(step_cell(Some((1, 2)), 3, 4, "ArrowDown"), Some((2, 2)));
        assert_eq!(step_cell(Some((2, 2)), 3, 4, "ArrowDown"), Some((2, 2)));
        assert_eq!(step_cell(Some((1, 2)), 3, 4, "ArrowUp"), Some((0, 2)));
        assert_eq!(step_cell(Some((1, 2)), 3, 4, "Home"), Some((1, 0)));
        assert_eq!(step_cell(Some((1, 0)), 3, 4, "End"), Some((1, 3)));
        assert_eq!(step_cell(Some((1, 1)), 3, 4, "PageUp"), Some((0, 1)));
        assert_eq!(step_cell(Some((1, 1)), 3, 4, "PageDown"), Some((2, 1)));
    }

    #[test]
    fn other_keys_and_empty_grids_are_left_alone() {
        assert_eq!(step_cell(Some((1, 1)), 3, 4, "Tab"), None);
        assert_eq!(step_cell(None, 3, 4, "Enter"), None);
        assert_eq!(step_cell(None, 0, 4, "ArrowDown"), None);
        assert_eq!(step_cell(Some((0, 0)), 3, 0, "ArrowDown"), None);
        assert_eq!(
            step_cell(Some((9, 9)), 3, 4, "ArrowUp"),
            Some((1, 3)),
            "a stale cell is clamped"
        );
        assert!(is_activation("Enter") && is_activation(" ") && !is_activation("a"));
    }

    #[test]
    fn a_pen_appears_in_the_middle_then_draws_only_while_down() {
        let pen = Pen::default();
        let (pen, ink) = pen.key(14, "ArrowLeft").unwrap();
        assert_eq!(
            (pen.cell, pen.down, ink),
            (Some((7, 7)), false, false),
            "the first key only shows it"
        );
        let (pen, ink) = pen.key(14, "ArrowLeft").unwrap();
        assert_eq!((pen.cell, ink), (Some((7, 6)), false), "a lifted pen moves without ink");
        let (pen, ink) = pen.key(14, "Enter").unwrap();
        assert!(pen.down && ink, "putting it down inks where it is");
        let (pen, ink) = pen.key(14, "ArrowDown").unwrap();
        assert_eq!(
            (pen.cell, ink),
            (Some((8, 6)), true),
            "a pen down inks each cell it reaches"
        );
        let (pen, ink) = pen.key(14, "PageDown").unwrap();
        assert_eq!((pen.cell, ink), (Some((13, 6)), true));
        let (pen, ink) = pen.key(14, "ArrowDown").unwrap();
        assert_eq!(
            (pen.cell, ink),
            (Some((13, 6)), false),
            "at the edge nothing new is inked"
        );
        let (pen, ink) = pen.key(14, " ").unwrap();
        assert!(!pen.down && !ink, "Space lifts it");
        assert_eq!(pen.key(14, "a"), None);
        assert_eq!(Pen::default().key(0, "ArrowUp"), None);
    }

    #[test]
    fn the_keys_move_the_selection_within_the_rows() {
        assert_eq!(step_selection(None, 4, "ArrowDown"), Some(0));
        assert_eq!(step_selection(None, 4, "ArrowUp"), Some(3));
        assert_eq!(step_selection(Some(1), 4, "ArrowDown"), Some(2));
        assert_eq!(step_selection(Some(3), 4, "ArrowDown"), Some(3));
        assert_eq!(step_selection(Some(0), 4, "ArrowUp"), Some(0));
        assert_eq!(step_selection(Some(9), 4, "ArrowUp"), Some(2), "a stale row is clamped");
        assert_eq!(step_selection(Some(2), 4, "Home"), Some(0));
        assert_eq!(step_selection(Some(0), 4, "End"), Some(3));
        assert_eq!(step_selection(Some(0), 4, "a"), None);
        assert_eq!(step_selection(None, 0, "ArrowDown"), None);
    }
}
