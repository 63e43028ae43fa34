//! One attention head as a query x key heatmap: a row per query token, a
//! column per key token, each cell the weight the query gives the key, on
//! the fixed scale 0..1 (so maps of different heads compare). Hovering a
//! cell reads it out, clicking picks its row, and the arrow keys move that
//! row, so the map also works without a pointer.

use leptos::html;
use leptos::prelude::*;

use super::canvas::{draw_image, mono_font, prepare, use_element_size, NOTE_FONT};
use super::keyboard::step_selection;
use crate::draw::{sequential, RgbaImage};

/// What the map shows before there are weights (or when the tokens do not
/// match them).
pub const EMPTY_TEXT: &str = "Train a step to see attention";

/// One head's attention weights: rows are queries, columns keys, row-major;
/// each row sums to 1.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct AttentionWeights {
    pub queries: usize,
    pub keys: usize,
    pub data: Vec<f32>,
}

impl AttentionWeights {
    /// From an `[L, S]` shape and its data; `None` if they disagree or the
    /// matrix is empty.
    pub fn new(shape: &[usize], data: Vec<f32>) -> Option<Self> {
        let [queries, keys] = shape[..] else {
            return None;
        };
        let len = queries.checked_mul(keys)?;
        (queries > 0 && keys > 0 && len == data.len()).then_some(Self { queries, keys, data })
    }

    /// Whether the fields agree (they are public, so check before drawing).
    pub fn is_valid(&self) -> bool {
        self.queries > 0 && self.keys > 0 && self.queries.checked_mul(self.keys) == Some(self.data.len())
    }

    pub fn at(&self, query: usize, key: usize) -> Option<f32> {
        if key >= self.keys {
            return None;
        }
        self.row(query)?.get(key).copied()
    }

    pub fn row(&self, query: usize) -> Option<&[f32]> {
        if query >= self.queries {
            return None;
        }
        let start = query.checked_mul(self.keys)?;
        self.data.get(start..start.checked_add(self.keys)?)
    }

    /// The key `query` attends to most and its weight (the first of ties;
    /// NaN never wins). `None` for a row out of range or all NaN.
    pub fn strongest(&self, query: usize) -> Option<(usize, f32)> {
        self.row(query)?
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, v)| !v.is_nan())
            .fold(None, |best: Option<(usize, f32)>, (k, v)| match best {
                Some((_, b)) if b >= v => best,
                _ => Some((k, v)),
            })
    }

    /// Keys across, queries down, one pixel a cell on the sequential ramp
    /// (0 dark, 1 bright).
    pub fn image(&self) -> RgbaImage {
        let mut image = RgbaImage::new(self.keys as u32, self.queries as u32);
        for (px, &v) in image.pixels.chunks_exact_mut(4).zip(&self.data) {
            let rgb = sequential(v.clamp(0.0, 1.0));
            px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
        }
        image
    }
}

/// The token labels for `weights`, if they fit it: one per query and one per
/// key, the same list (self-attention).
pub fn labels<'a>(weights: &AttentionWeights, tokens: &'a [String]) -> Option<&'a [String]> {
    (weights.is_valid() && tokens.len() == weights.queries && tokens.len() == weights.keys).then_some(tokens)
}

/// A token as drawn: whitespace made visible, the empty token a symbol.
pub fn visible(token: &str) -> String {
    if token.is_empty() {
        return "\u{2205}".into();
    }
    token
        .chars()
        .map(|c| match c {
            ' ' => '\u{2423}',
            '\n' => '\u{21b5}',
            '\t' => '\u{21e5}',
            c if c.is_whitespace() || c.is_control() => '\u{00b7}',
            c => c,
        })
        .collect()
}

/// The text alternative: for each query, the key it attends to most
/// ("Strongest: who? -> dog, the -> dog"); the empty-state text when the
/// tokens do not fit the weights.
pub fn strongest_summary(weights: &AttentionWeights, tokens: &[String]) -> String {
    let Some(tokens) = labels(weights, tokens) else {
        return format!("{EMPTY_TEXT}.");
    };
    let pairs: Vec<String> = tokens
        .iter()
        .enumerate()
        .map(|(q, query)| {
            let key = weights
                .strongest(q)
                .and_then(|(k, _)| tokens.get(k))
                .map_or_else(|| "?".to_string(), |t| visible(t));
            format!("{} -> {key}", visible(query))
        })
        .collect();
    format!("Strongest: {}", pairs.join(", "))
}

/// The hover readout for a cell: `"dog" attends to "the": 0.420`.
pub fn readout(weights: &AttentionWeights, tokens: &[String], query: usize, key: usize) -> Option<String> {
    let tokens = labels(weights, tokens)?;
    let value = weights.at(query, key)?;
    Some(format!(
        "{:?} attends to {:?}: {value:.3}",
        tokens.get(query)?,
        tokens.get(key)?
    ))
}

const MAX_FONT: f64 = 12.0;
/// The smallest label font; below it labels are thinned out, not shrunk.
pub const MIN_FONT: f64 = 9.0;
/// The label font sizes a layout picks from, largest first (each is warmed
/// at start: `canvas::warm_fonts`).
pub const LABEL_FONTS: [f64; 4] = [MAX_FONT, 11.0, 10.0, MIN_FONT];
const MAX_CELL: f64 = 36.0;
/// Between a label and the cells.
const GAP: f64 = 4.0;
/// Around the grid, room for the selection outline.
const EDGE: f64 = 3.0;
const PLACEHOLDER_HEIGHT: f64 = 120.0;
const TEXT_COLOR: &str = "#4a5568";
const STRONG_TEXT: &str = "#1c2433";

/// The estimated width of `text` in a monospace font of `font` px (wide
/// scripts take a full em).
fn text_width(text: &str, font: f64) -> f64 {
    text.chars()
        .map(|c| if u32::from(c) >= 0x1100 { 1.0 } else { 0.62 })
        .sum::<f64>()
        * font
}

/// `label` cut to `max_chars` characters, an ellipsis marking the cut.
pub fn clip(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        return label.to_string();
    }
    let mut cut: String = label.chars().take(max_chars.saturating_sub(1)).collect();
    cut.push('\u{2026}');
    cut
}

/// Where everything goes, in CSS pixels: query labels in the left margin,
/// key labels standing up in the top margin, square cells after.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub rows: usize,
    pub cols: usize,
    /// The left edge of the cells.
    pub left: f64,
    /// The top edge of the cells.
    pub top: f64,
    /// A cell's side.
    pub cell: f64,
    /// The label font size.
    pub font: f64,
    /// Labels longer than this are cut.
    pub max_chars: usize,
    /// The whole canvas.
    pub width: f64,
    pub height: f64,
}

impl Layout {
    /// The largest label font (12 down to 9 px) and the longest labels (12,
    /// 8, then 5 characters) that fit `width` with square cells at least as
    /// tall as the font; failing that, 9 px and 3 characters with whatever
    /// cells remain. `None` if not even a 1 px cell fits.
    pub fn new(width: f64, rows: &[String], cols: &[String]) -> Option<Self> {
        if rows.is_empty() || cols.is_empty() || !width.is_finite() {
            return None;
        }
        let fit = |font: f64, max_chars: usize| {
            let widest = |labels: &[String]| {
                labels
                    .iter()
                    .map(|l| text_width(&clip(&visible(l), max_chars), font))
                    .fold(0.0, f64::max)
            };
            let left = (EDGE + widest(rows) + GAP).ceil();
            let top = (EDGE + widest(cols) + GAP).ceil();
            let cell = ((width - left - EDGE) / cols.len() as f64).floor().min(MAX_CELL);
            Self {
                rows: rows.len(),
                cols: cols.len(),
                left,
                top,
                cell,
                font,
                max_chars,
                width: left + cell * cols.len() as f64 + EDGE,
                height: top + cell * rows.len() as f64 + EDGE,
            }
        };
        let fonts = LABEL_FONTS;
        [12, 8, 5]
            .into_iter()
            .flat_map(|chars| fonts.into_iter().map(move |font| (font, chars)))
            .map(|(font, chars)| fit(font, chars))
            .find(|l| l.cell >= l.font)
            .or_else(|| Some(fit(MIN_FONT, 3)).filter(|l| l.cell >= 1.0))
    }

    /// Draw every `n`th label so that labels never overlap.
    fn label_stride(&self) -> usize {
        ((self.font / self.cell).ceil() as usize).max(1)
    }

    /// The row of the grid at height `y`, anywhere across the canvas (so
    /// the query labels are targets too).
    pub fn row_at(&self, x: f64, y: f64) -> Option<usize> {
        if !(0.0..self.width).contains(&x) || y < self.top || self.cell <= 0.0 {
            return None;
        }
        let row = ((y - self.top) / self.cell) as usize;
        (row < self.rows).then_some(row)
    }

    /// The cell (query, key) under `(x, y)`; `None` off the grid.
    pub fn cell_at(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        if x < self.left || y < self.top || self.cell <= 0.0 {
            return None;
        }
        let row = ((y - self.top) / self.cell) as usize;
        let col = ((x - self.left) / self.cell) as usize;
        (row < self.rows && col < self.cols).then_some((row, col))
    }
}

fn paint_placeholder(canvas: &web_sys::HtmlCanvasElement, width: f64) {
    let Some(ctx) = prepare(canvas, width, PLACEHOLDER_HEIGHT) else {
        return;
    };
    ctx.set_fill_style_str("#f4f6fa");
    ctx.fill_rect(0.0, 0.0, width, PLACEHOLDER_HEIGHT);
    ctx.set_fill_style_str("#8a94a6");
    ctx.set_font(NOTE_FONT);
    ctx.set_text_align("center");
    ctx.set_text_baseline("middle");
    let _ = ctx.fill_text(EMPTY_TEXT, width / 2.0, PLACEHOLDER_HEIGHT / 2.0);
}

fn paint(
    canvas: &web_sys::HtmlCanvasElement,
    layout: &Layout,
    weights: &AttentionWeights,
    tokens: &[String],
    selected: Option<usize>,
) {
    let Some(ctx) = prepare(canvas, layout.width, layout.height) else {
        return;
    };
    let Layout { left, top, cell, .. } = *layout;
    let grid_width = cell * layout.cols as f64;
    draw_image(
        &ctx,
        &weights.image(),
        (left, top, grid_width, cell * layout.rows as f64),
        false,
    );

    let stride = layout.label_stride();
    let font = |weight: &str| mono_font(weight == "bold", layout.font);
    let selected = selected.filter(|&s| s < layout.rows);
    // Query labels, right-aligned against the rows; the selected one bold.
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    for (q, token) in tokens.iter().enumerate().take(layout.rows) {
        let is_selected = selected == Some(q);
        if q % stride != 0 && !is_selected {
            continue;
        }
        ctx.set_font(&font(if is_selected { "bold" } else { "normal" }));
        ctx.set_fill_style_str(if is_selected { STRONG_TEXT } else { TEXT_COLOR });
        let label = clip(&visible(token), layout.max_chars);
        let _ = ctx.fill_text(&label, left - GAP, top + (q as f64 + 0.5) * cell);
    }
    // Key labels, standing up over their columns.
    ctx.set_font(&font("normal"));
    ctx.set_fill_style_str(TEXT_COLOR);
    ctx.set_text_align("left");
    for (k, token) in tokens.iter().enumerate().take(layout.cols).step_by(stride) {
        let label = clip(&visible(token), layout.max_chars);
        ctx.save();
        let turned = ctx
            .translate(left + (k as f64 + 0.5) * cell, top - GAP)
            .and_then(|()| ctx.rotate(-std::f64::consts::FRAC_PI_2));
        if turned.is_ok() {
            let _ = ctx.fill_text(&label, 0.0, 0.0);
        }
        ctx.restore();
    }
    // The selected row: black around white, visible on dark and bright
    // cells alike.
    if let Some(row) = selected {
        let y = top + row as f64 * cell;
        ctx.set_stroke_style_str("#000");
        ctx.set_line_width(3.0);
        ctx.stroke_rect(left, y, grid_width, cell);
        ctx.set_stroke_style_str("#fff");
        ctx.set_line_width(1.0);
        ctx.stroke_rect(left, y, grid_width, cell);
    }
}

/// A hovered (or keyboard-selected) cell: (query, key).
pub type Cell = (usize, usize);

/// One head's attention weights as a labelled query x key heatmap.
#[component]
pub fn AttentionMap(
    #[prop(into)] weights: Signal<Option<AttentionWeights>>,
    /// Token labels of the rows (queries) and columns (keys); the same list
    /// for self-attention. A list that does not match the weights' shape
    /// shows the empty state.
    #[prop(into)]
    tokens: Signal<Vec<String>>,
    /// The `data-testid` of the canvas, e.g. "attention-map-0-1"; the
    /// readout's is the same with "-readout" after it.
    #[prop(into)]
    testid: String,
    /// The caption, e.g. "Layer 1, head 2"; also starts the aria-label.
    #[prop(into)]
    title: String,
    /// The query row the page highlights (outlined), if any.
    #[prop(into)]
    selected: Signal<Option<usize>>,
    /// Called with the row the visitor clicks or moves to with the arrow
    /// keys (or Home/End).
    #[prop(into)]
    on_select: Callback<usize>,
) -> impl IntoView {
    let frame = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let size = use_element_size(frame);
    let hovered = RwSignal::new(None::<Cell>);
    let layout = Memo::new(move |_| {
        let (width, _) = size.get();
        weights.with(|w| {
            tokens.with(|tokens| {
                let tokens = labels(w.as_ref()?, tokens)?;
                Layout::new(width, tokens, tokens)
            })
        })
    });
    let paint_now = move || {
        let (Some(canvas), Some((width, _)), Some(layout)) = (
            canvas.try_get_untracked().flatten(),
            size.try_get_untracked(),
            layout.try_get_untracked(),
        ) else {
            return;
        };
        let painted = layout.and_then(|layout| {
            weights.try_with_untracked(|w| {
                tokens.try_with_untracked(|t| {
                    let w = w.as_ref()?;
                    paint(
                        &canvas,
                        &layout,
                        w,
                        labels(w, t)?,
                        selected.try_get_untracked().flatten(),
                    );
                    Some(())
                })
            })
        });
        if painted.flatten().flatten().is_none() {
            paint_placeholder(&canvas, width);
        }
    };
    // Each map paints in a task of its own, the last request winning, so a
    // snapshot that updates every head does not paint them all in its
    // message handler.
    let pending = StoredValue::new(None::<leptos::leptos_dom::helpers::TimeoutHandle>);
    Effect::new(move |_| {
        layout.track();
        weights.track();
        tokens.track();
        selected.track();
        canvas.track();
        if let Some(handle) = pending.get_value() {
            handle.clear();
        }
        pending.set_value(set_timeout_with_handle(paint_now, std::time::Duration::ZERO).ok());
    });
    on_cleanup(move || {
        if let Some(Some(handle)) = pending.try_get_value() {
            handle.clear();
        }
    });

    let on_move = move |ev: web_sys::PointerEvent| {
        let cell = layout.with_untracked(|l| {
            l.as_ref()
                .and_then(|l| l.cell_at(f64::from(ev.offset_x()), f64::from(ev.offset_y())))
        });
        if hovered.get_untracked() != cell {
            hovered.set(cell);
        }
    };
    let on_click = move |ev: web_sys::MouseEvent| {
        let row = layout.with_untracked(|l| {
            l.as_ref()
                .and_then(|l| l.row_at(f64::from(ev.offset_x()), f64::from(ev.offset_y())))
        });
        if let Some(row) = row {
            on_select.run(row);
        }
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let rows = layout.with_untracked(|l| l.as_ref().map_or(0, |l| l.rows));
        let Some(row) = step_selection(selected.get_untracked(), rows, &ev.key()) else {
            return;
        };
        ev.prevent_default();
        on_select.run(row);
        // Read the row out as a pointer would its strongest cell.
        let key = weights.with_untracked(|w| w.as_ref().and_then(|w| w.strongest(row)));
        hovered.set(key.map(|(key, _)| (row, key)));
    };
    let readout_text = move || {
        let (query, key) = hovered.get()?;
        weights.with(|w| tokens.with(|t| readout(w.as_ref()?, t, query, key)))
    };
    let aria_label = {
        let title = title.clone();
        move || {
            let summary = weights.with(|w| {
                tokens.with(|t| match w {
                    Some(w) => strongest_summary(w, t),
                    None => format!("{EMPTY_TEXT}."),
                })
            });
            format!("{title}. {summary}")
        }
    };
    // Set through the CSS object model (style:), which the page's
    // Content-Security-Policy allows; a style attribute it would refuse.
    let canvas_width = move || {
        layout
            .get()
            .map_or_else(|| "100%".to_string(), |l| format!("{}px", l.width))
    };
    let canvas_height = move || format!("{}px", layout.get().map_or(PLACEHOLDER_HEIGHT, |l| l.height));
    let readout_testid = format!("{testid}-readout");
    view! {
        <figure class="attention-map">
            <figcaption class="chart-title">{title}</figcaption>
            <div class="attention-map-frame" node_ref=frame>
                <canvas
                    node_ref=canvas
                    data-testid=testid
                    data-rows=move || layout.with(|l| l.as_ref().map_or(0, |l| l.rows))
                    data-selected=move || selected.get().map(|s| s.to_string())
                    role="img"
                    aria-label=aria_label
                    tabindex="0"
                    style:width=canvas_width
                    style:height=canvas_height
                    on:pointermove=on_move
                    on:pointerleave=move |_| hovered.set(None)
                    on:click=on_click
                    on:keydown=on_key
                    on:blur=move |_| hovered.set(None)
                ></canvas>
            </div>
            <p class="attention-map-readout readout" data-testid=readout_testid aria-live="polite">
                {move || readout_text().unwrap_or_else(|| "hover a cell for its weight".into())}
            </p>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_font_is_warmed_at_start() {
        let warmed = crate::components::canvas::canvas_fonts();
        for size in LABEL_FONTS {
            for bold in [false, true] {
                assert!(warmed.contains(&mono_font(bold, size)), "{}", mono_font(bold, size));
            }
        }
        assert!(warmed.iter().any(|f| f == NOTE_FONT));
    }

    fn words(text: &str) -> Vec<String> {
        text.split(' ').map(String::from).collect()
    }

    #[test]
    fn weights_refuse_shapes_that_do_not_match_their_data() {
        assert!(AttentionWeights::new(&[2, 3], vec![0.0; 6]).is_some());
        assert!(AttentionWeights::new(&[2, 3], vec![0.0; 5]).is_none());
        assert!(AttentionWeights::new(&[6], vec![0.0; 6]).is_none());
        assert!(AttentionWeights::new(&[1, 2, 3], vec![0.0; 6]).is_none());
        assert!(AttentionWeights::new(&[0, 3], vec![]).is_none());
        assert!(AttentionWeights::new(&[3, 0], vec![]).is_none());
        assert!(AttentionWeights::new(&[], vec![]).is_none());
        assert!(AttentionWeights::new(&[usize::MAX, 2], vec![0.0; 2]).is_none());
    }

    #[test]
    fn weights_index_rows_and_cells_and_refuse_out_of_range() {
        let w = AttentionWeights::new(&[2, 3], vec![0.1, 0.2, 0.7, 0.5, 0.5, 0.0]).unwrap();
        assert_eq!(w.at(1, 0), Some(0.5));
        assert_eq!(w.at(0, 2), Some(0.7));
        assert_eq!(w.at(2, 0), None);
        assert_eq!(w.at(0, 3), None);
        assert_eq!(w.row(1), Some(&[0.5, 0.5, 0.0][..]));
        assert_eq!(w.row(2), None);
        assert_eq!(w.strongest(0), Some((2, 0.7)));
        assert_eq!(w.strongest(1), Some((0, 0.5)), "the first of a tie");
        // Fields set by hand that disagree: nothing panics.
        let broken = AttentionWeights {
            queries: 3,
            keys: 3,
            data: vec![1.0; 4],
        };
        assert!(!broken.is_valid());
        assert_eq!(broken.row(1), None);
        assert_eq!(broken.at(2, 2), None);
        assert_eq!(broken.image().pixels.len(), 3 * 3 * 4);
    }

    #[test]
    fn the_image_is_keys_across_queries_down_on_a_fixed_scale() {
        let w = AttentionWeights::new(&[2, 3], vec![0.0, 1.0, 0.0, 0.5, 0.5, 2.0]).unwrap();
        let image = w.image();
        assert_eq!((image.width, image.height), (3, 2));
        let dark = sequential(0.0);
        let bright = sequential(1.0);
        assert_eq!(image.pixel(0, 0), [dark[0], dark[1], dark[2], 255]);
        assert_eq!(image.pixel(1, 0), [bright[0], bright[1], bright[2], 255]);
        assert_eq!(image.pixel(2, 1), image.pixel(1, 0), "clamped to 1");
    }

    #[test]
    fn the_summary_names_each_querys_strongest_key() {
        let tokens = words("who? the dog");
        #[rustfmt::skip]
        let w = AttentionWeights::new(&[3, 3], vec![
            0.1, 0.2, 0.7,
            0.3, 0.3, 0.4,
            f32::NAN, f32::NAN, f32::NAN,
        ])
        .unwrap();
        assert_eq!(
            strongest_summary(&w, &tokens),
            "Strongest: who? -> dog, the -> dog, dog -> ?"
        );
        // Whitespace tokens stay visible.
        let w = AttentionWeights::new(&[2, 2], vec![0.0, 1.0, 1.0, 0.0]).unwrap();
        let spaced = vec!["a".to_string(), " ".to_string()];
        assert_eq!(
            strongest_summary(&w, &spaced),
            "Strongest: a -> \u{2423}, \u{2423} -> a"
        );
        // Tokens that do not fit the weights: the empty state, no panic.
        assert_eq!(strongest_summary(&w, &words("a b c")), format!("{EMPTY_TEXT}."));
        assert_eq!(strongest_summary(&w, &[]), format!("{EMPTY_TEXT}."));
    }

    #[test]
    fn the_readout_quotes_both_tokens() {
        let w = AttentionWeights::new(&[2, 2], vec![0.58, 0.42, 0.0, 1.0]).unwrap();
        let tokens = words("dog the");
        assert_eq!(
            readout(&w, &tokens, 0, 1).as_deref(),
            Some("\"dog\" attends to \"the\": 0.420")
        );
        assert_eq!(readout(&w, &tokens, 2, 0), None);
        assert_eq!(readout(&w, &words("dog"), 0, 0), None);
    }

    #[test]
    fn sixteen_tokens_fit_a_phone_column_legibly() {
        let tokens: Vec<String> = (0..16).map(|i| format!("token{i:02}x")).collect();
        for width in [280.0, 320.0] {
            let l = Layout::new(width, &tokens, &tokens).unwrap();
            assert!(l.font >= MIN_FONT, "{l:?}");
            assert!(l.cell >= l.font, "labels do not overlap: {l:?}");
            assert!(l.width <= width, "{l:?}");
            assert_eq!(l.label_stride(), 1);
            assert_eq!(l.height, l.top + 16.0 * l.cell + EDGE, "square cells");
        }
        // Long words are cut, not allowed to eat the grid.
        let long = vec!["internationalisation".to_string(); 16];
        let l = Layout::new(320.0, &long, &long).unwrap();
        assert!(l.max_chars < 20 && l.cell >= l.font, "{l:?}");
        // Few tokens on a wide screen: cells stop growing.
        let l = Layout::new(1200.0, &tokens[..3], &tokens[..3]).unwrap();
        assert_eq!(l.cell, MAX_CELL);
        // Nothing to lay out.
        assert!(Layout::new(0.0, &tokens, &tokens).is_none());
        assert!(Layout::new(320.0, &[], &[]).is_none());
    }

    #[test]
    fn the_pointer_finds_its_cell_and_row() {
        let tokens = words("the dog sat");
        let l = Layout::new(320.0, &tokens, &tokens).unwrap();
        let (x0, y0, c) = (l.left, l.top, l.cell);
        assert_eq!(l.cell_at(x0, y0), Some((0, 0)));
        assert_eq!(l.cell_at(x0 + 2.5 * c, y0 + 1.5 * c), Some((1, 2)));
        assert_eq!(l.cell_at(x0 + 3.0 * c - 0.1, y0 + 3.0 * c - 0.1), Some((2, 2)));
        assert_eq!(l.cell_at(x0 + 3.0 * c, y0), None, "right of the grid");
        assert_eq!(l.cell_at(x0, y0 + 3.0 * c), None, "under the grid");
        assert_eq!(l.cell_at(x0 - 1.0, y0), None, "on a query label");
        assert_eq!(l.cell_at(x0, y0 - 1.0), None, "on a key label");
        // Clicking a query label picks its row.
        assert_eq!(l.row_at(1.0, y0 + 1.5 * c), Some(1));
        assert_eq!(l.row_at(1.0, y0 - 1.0), None);
        assert_eq!(l.row_at(1.0, y0 + 3.0 * c), None);
    }

    #[test]
    fn labels_are_cut_with_an_ellipsis() {
        assert_eq!(clip("attention", 12), "attention");
        assert_eq!(clip("attention", 5), "atte\u{2026}");
        assert_eq!(visible(""), "\u{2205}");
        assert_eq!(visible("a\tb\n"), "a\u{21e5}b\u{21b5}");
    }
}
