//! A line chart on a canvas that follows its container's width, and the
//! bounded history a live curve keeps.

use leptos::html;
use leptos::prelude::*;

use super::canvas::{prepare, use_element_size, SMALL_FONT, TICK_FONT};
use crate::draw::{css_rgb, format_number, nice_ticks, Rgb};

/// One line: its legend label, colour, width and `(x, y)` points.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub label: String,
    pub color: Rgb,
    /// Line width in CSS pixels.
    pub width: f64,
    /// 0 (invisible) to 1 (opaque).
    pub alpha: f64,
    pub points: Vec<(f64, f64)>,
}

/// The curve of a scalar over training steps, bounded in memory: once it
/// holds `capacity` points it merges neighbours pairwise, so a long run
/// keeps its whole shape at a coarser grain. Also keeps an exponential
/// moving average, which reads better than the noisy per-step values.
#[derive(Clone, Debug, PartialEq)]
pub struct History {
    capacity: usize,
    raw: Vec<(f64, f64)>,
    smooth: Vec<(f64, f64)>,
    average: Option<f64>,
    /// How many pushed points each stored point stands for.
    stride: usize,
    pending: Vec<(f64, f64)>,
}

/// Weight of the newest value in the moving average.
const SMOOTHING: f64 = 0.05;

impl History {
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity: capacity.max(4),
            raw: Vec::new(),
            smooth: Vec::new(),
            average: None,
            stride: 1,
            pending: Vec::new(),
        }
    }

    pub fn clear(&mut self) {
        *self = Self::new(self.capacity);
    }

    pub fn len(&self) -> usize {
        self.raw.len()
    }

    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }

    pub fn raw(&self) -> &[(f64, f64)] {
        &self.raw
    }

    pub fn smooth(&self) -> &[(f64, f64)] {
        &self.smooth
    }

    /// Adds a point; values that are not finite are skipped (they would
    /// wreck the scale; the page reports them separately).
    pub fn push(&mut self, x: f64, y: f64) {
        if !y.is_finite() || !x.is_finite() {
            return;
        }
        let average = match self.average {
            None => y,
            Some(a) => a + SMOOTHING * (y - a),
        };
        self.average = Some(average);
        self.pending.push((x, y));
        if self.pending.len() < self.stride {
            return;
        }
        let n = self.pending.len() as f64;
        let mean_y = self.pending.iter().map(|p| p.1).sum::<f64>() / n;
        let last_x = self.pending[self.pending.len() - 1].0;
        self.pending.clear();
        self.raw.push((last_x, mean_y));
        self.smooth.push((last_x, average));
        if self.raw.len() >= self.capacity {
            self.raw = merge_pairs(&self.raw);
            self.smooth = merge_pairs(&self.smooth);
            self.stride *= 2;
        }
    }
}

fn merge_pairs(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    points
        .chunks(2)
        .map(|pair| {
            let n = pair.len() as f64;
            let y = pair.iter().map(|p| p.1).sum::<f64>() / n;
            (pair[pair.len() - 1].0, y)
        })
        .collect()
}

/// The x range of `points` from zero (steps count from zero; so does the
/// axis), never empty, and the smallest and largest y. `None` for no points.
fn extent<'a>(mut points: impl Iterator<Item = &'a (f64, f64)>) -> Option<((f64, f64), (f64, f64))> {
    let first = points.next()?;
    let (mut x0, mut x1, mut y0, mut y1) = (first.0, first.0, first.1, first.1);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let x0 = x0.min(0.0);
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    Some(((x0, x1), (y0, y1)))
}

/// Axis ranges covering every point and zero, so that a loss curve sits on
/// a true zero and starts at step 0.
pub fn chart_bounds(series: &[Series]) -> Option<((f64, f64), (f64, f64))> {
    let ((x0, x1), (y0, y1)) = extent(series.iter().flat_map(|s| s.points.iter()))?;
    let y0 = y0.min(0.0);
    let y1 = if y1 <= y0 { y0 + 1.0 } else { y1 * 1.05 };
    Some(((x0, x1), (y0, y1)))
}

/// Axis ranges for a logarithmic y axis: x as in [`chart_bounds`], from
/// zero; y covers the positive finite values (others cannot be drawn on
/// it), padded a little on each side in decades. `None` when no point has
/// a positive y.
pub fn chart_bounds_log(series: &[Series]) -> Option<((f64, f64), (f64, f64))> {
    let points = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|(x, y)| x.is_finite() && shows_on_log_axis(*y));
    let ((x0, x1), (y0, y1)) = extent(points)?;
    let (lo, hi) = (y0.log10(), y1.log10());
    // A flat line gets half a decade around it.
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 0.25 };
    Some(((x0, x1), (10f64.powf(lo - pad), 10f64.powf(hi + pad))))
}

/// Whether `y` has a place on a logarithmic axis.
fn shows_on_log_axis(y: f64) -> bool {
    y > 0.0 && y.is_finite()
}

/// `mantissa` times ten to the `exponent`, as close as an `f64` gets (so
/// that `scaled_power_of_ten(1.0, -3) == 0.001`).
fn scaled_power_of_ten(mantissa: f64, exponent: i32) -> f64 {
    if exponent >= 0 {
        mantissa * 10f64.powi(exponent)
    } else {
        mantissa / 10f64.powi(-exponent)
    }
}

/// Tick values for a logarithmic axis over [lo, hi] (both positive), in
/// increasing order: the powers of ten inside, every second (third, ...)
/// one when there are more than `max_count`. A range with fewer than two
/// of them (less than about a decade) also gets 2x and 5x values; a range
/// too narrow for even those gets [`nice_ticks`]. Empty for a range that
/// is not positive and finite.
pub fn log_ticks(lo: f64, hi: f64, max_count: usize) -> Vec<f64> {
    if !(lo > 0.0 && hi >= lo && hi.is_finite()) || max_count < 2 {
        return Vec::new();
    }
    let inside = |t: &f64| (lo..=hi).contains(t);
    let first = lo.log10().floor() as i32;
    let last = hi.log10().ceil() as i32;
    let decades: Vec<i32> = (first..=last)
        .filter(|&e| inside(&scaled_power_of_ten(1.0, e)))
        .collect();
    if decades.len() >= 2 {
        let every = (1..)
            .find(|&every| decades.iter().filter(|&&e| e.rem_euclid(every) == 0).count() <= max_count)
            .unwrap_or(1);
        return decades
            .into_iter()
            .filter(|e| e.rem_euclid(every) == 0)
            .map(|e| scaled_power_of_ten(1.0, e))
            .collect();
    }
    let ticks: Vec<f64> = (first..=last)
        .flat_map(|e| [1.0, 2.0, 5.0].map(|m| scaled_power_of_ten(m, e)))
        .filter(inside)
        .collect();
    if ticks.len() >= 2 {
        return ticks;
    }
    nice_ticks(lo, hi, max_count).into_iter().filter(|t| *t > 0.0).collect()
}

/// A label for a tick on a logarithmic axis: like [`format_number`] from
/// 0.001 to 99999, and `1e-6`, `5e-6`, `1e8` outside.
pub fn format_log_tick(v: f64) -> String {
    let a = v.abs();
    if !v.is_finite() || v == 0.0 || (1e-3..1e5).contains(&a) {
        return format_number(v);
    }
    let exponent = (a.log10() + 1e-9).floor() as i32;
    let mantissa = v / scaled_power_of_ten(1.0, exponent);
    if (mantissa - mantissa.round()).abs() < 1e-9 {
        format!("{}e{exponent}", mantissa.round())
    } else {
        format_number(v)
    }
}

const MARGIN_LEFT: f64 = 46.0;
const MARGIN_RIGHT: f64 = 12.0;
const MARGIN_TOP: f64 = 10.0;
const MARGIN_BOTTOM: f64 = 26.0;
/// Room an axis label takes on top of the margins above.
const AXIS_LABEL_ROOM: f64 = 16.0;
const AXIS_COLOR: &str = "#8a94a6";
const GRID_COLOR: &str = "#e6e9ef";
const TEXT_COLOR: &str = "#4a5568";
const AXIS_LABEL_FONT: &str = SMALL_FONT;

/// How the axes are drawn: the [`LineChart`] props beyond the data.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Axes {
    log_y: bool,
    /// Under the x tick labels; empty for none.
    x_label: &'static str,
    /// Up the left edge; empty for none.
    y_label: &'static str,
}

/// Where the plot sits on a canvas and how data coordinates map onto it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scale {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    x: (f64, f64),
    /// In data units; mapped through log10 when `log_y`.
    y: (f64, f64),
    log_y: bool,
}

impl Scale {
    /// The plot inside a `size` canvas, with room for the axis labels
    /// `axes` asks for, showing `x` by `y`.
    fn new(size: (f64, f64), axes: &Axes, x: (f64, f64), y: (f64, f64)) -> Self {
        let room = |label: &str| if label.is_empty() { 0.0 } else { AXIS_LABEL_ROOM };
        let left = MARGIN_LEFT + room(axes.y_label);
        let bottom = MARGIN_BOTTOM + room(axes.x_label);
        Self {
            left,
            top: MARGIN_TOP,
            width: (size.0 - left - MARGIN_RIGHT).max(1.0),
            height: (size.1 - MARGIN_TOP - bottom).max(1.0),
            x,
            y,
            log_y: axes.log_y,
        }
    }

    fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x.0) / (self.x.1 - self.x.0) * self.width
    }

    fn py(&self, y: f64) -> f64 {
        let axis = |v: f64| if self.log_y { v.log10() } else { v };
        let (y0, y1) = (axis(self.y.0), axis(self.y.1));
        self.top + (1.0 - (axis(y) - y0) / (y1 - y0)) * self.height
    }

    /// Whether a point with this `y` is drawn (a log axis has no place for
    /// zero, negatives or non-finite values; they break the line).
    fn shows(&self, y: f64) -> bool {
        !self.log_y || shows_on_log_axis(y)
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }

    fn right(&self) -> f64 {
        self.left + self.width
    }

    /// The y grid values and their labels.
    fn y_ticks(&self, max_count: usize) -> Vec<(f64, String)> {
        let (y0, y1) = self.y;
        if self.log_y {
            log_ticks(y0, y1, max_count)
                .into_iter()
                .map(|t| (t, format_log_tick(t)))
                .collect()
        } else {
            nice_ticks(y0, y1, max_count)
                .into_iter()
                .map(|t| (t, format_number(t)))
                .collect()
        }
    }
}

fn paint(canvas: &web_sys::HtmlCanvasElement, size: (f64, f64), series: &[Series], empty_text: &str, axes: &Axes) {
    let (width, height) = size;
    let Some(ctx) = prepare(canvas, width, height) else {
        return;
    };
    ctx.set_font(TICK_FONT);
    ctx.set_fill_style_str(TEXT_COLOR);
    let bounds = if axes.log_y {
        chart_bounds_log(series)
    } else {
        chart_bounds(series)
    };
    let Some((x_range, y_range)) = bounds else {
        ctx.set_text_align("center");
        let _ = ctx.fill_text(empty_text, width / 2.0, height / 2.0);
        return;
    };
    let scale = Scale::new(size, axes, x_range, y_range);

    // Grid and tick labels.
    ctx.set_line_width(1.0);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    let y_ticks = ((scale.height / 36.0) as usize).clamp(2, 8);
    for (tick, label) in scale.y_ticks(y_ticks) {
        let y = scale.py(tick).round() + 0.5;
        ctx.set_stroke_style_str(GRID_COLOR);
        ctx.begin_path();
        ctx.move_to(scale.left, y);
        ctx.line_to(scale.right(), y);
        ctx.stroke();
        let _ = ctx.fill_text(&label, scale.left - 6.0, y);
    }
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    let x_ticks = ((scale.width / 70.0) as usize).clamp(2, 10);
    for tick in nice_ticks(x_range.0, x_range.1, x_ticks) {
        let x = scale.px(tick).round() + 0.5;
        ctx.set_stroke_style_str(GRID_COLOR);
        ctx.begin_path();
        ctx.move_to(x, scale.top);
        ctx.line_to(x, scale.bottom());
        ctx.stroke();
        let _ = ctx.fill_text(&format_number(tick), x, scale.bottom() + 6.0);
    }
    ctx.set_stroke_style_str(AXIS_COLOR);
    ctx.begin_path();
    ctx.move_to(scale.left + 0.5, scale.top);
    ctx.line_to(scale.left + 0.5, scale.bottom() + 0.5);
    ctx.line_to(scale.right(), scale.bottom() + 0.5);
    ctx.stroke();

    // Axis labels, small: x centred under the tick labels, y up the left
    // edge.
    ctx.set_font(AXIS_LABEL_FONT);
    if !axes.x_label.is_empty() {
        let _ = ctx.fill_text(axes.x_label, scale.left + scale.width / 2.0, scale.bottom() + 22.0);
    }
    if !axes.y_label.is_empty() {
        ctx.save();
        let turned = ctx
            .translate(2.0, scale.top + scale.height / 2.0)
            .and_then(|()| ctx.rotate(-std::f64::consts::FRAC_PI_2));
        if turned.is_ok() {
            let _ = ctx.fill_text(axes.y_label, 0.0, 0.0);
        }
        ctx.restore();
    }

    // The lines, clipped to the plot; on a log axis, points it cannot show
    // break the line.
    ctx.save();
    ctx.begin_path();
    ctx.rect(scale.left, scale.top, scale.width, scale.height);
    ctx.clip();
    ctx.set_line_join("round");
    for s in series {
        let shown = s.points.iter().filter(|p| scale.shows(p.1)).count();
        if shown == 0 {
            continue;
        }
        ctx.set_global_alpha(s.alpha);
        ctx.set_stroke_style_str(&css_rgb(s.color));
        ctx.set_line_width(s.width);
        ctx.begin_path();
        let mut pen_down = false;
        for &(x, y) in &s.points {
            if !scale.shows(y) {
                pen_down = false;
            } else if pen_down {
                ctx.line_to(scale.px(x), scale.py(y));
            } else {
                ctx.move_to(scale.px(x), scale.py(y));
                pen_down = true;
            }
        }
        if shown == 1 {
            if let Some(&(x, y)) = s.points.iter().find(|p| scale.shows(p.1)) {
                ctx.arc(scale.px(x), scale.py(y), 2.0, 0.0, std::f64::consts::TAU).ok();
            }
        }
        ctx.stroke();
    }
    ctx.restore();
}

/// Colours for several lines on one chart, in the order they are handed
/// out: today's loss blue first, then the Okabe-Ito colours that stay apart
/// for the common colour-vision deficiencies, darkened where needed so each
/// has at least 3:1 contrast on the page's white cards.
pub const PALETTE: [Rgb; 6] = [
    [41, 128, 185],  // blue
    [213, 94, 0],    // vermillion
    [0, 158, 115],   // bluish green
    [204, 121, 167], // reddish purple
    [180, 120, 0],   // ochre
    [80, 80, 80],    // dark grey
];

/// The `index`-th colour of [`PALETTE`], round and round.
pub fn palette_color(index: usize) -> Rgb {
    PALETTE[index % PALETTE.len()]
}

const RAW_WIDTH: f64 = 1.0;
const RAW_ALPHA: f64 = 0.35;
const SMOOTH_WIDTH: f64 = 2.2;

/// The training-loss chart every lab draws: each step's loss, faint, and
/// its moving average on top.
pub fn loss_series(history: &History) -> Vec<Series> {
    let color = PALETTE[0];
    vec![
        Series {
            label: "loss per step".into(),
            color,
            width: RAW_WIDTH,
            alpha: RAW_ALPHA,
            points: history.raw().to_vec(),
        },
        Series {
            label: "moving average".into(),
            color,
            width: SMOOTH_WIDTH,
            alpha: 1.0,
            points: history.smooth().to_vec(),
        },
    ]
}

/// Adds a snapshot's new points to the curve called `name`, which is
/// started (with room for `capacity` points) the first time the name comes;
/// curves keep the order their names first came in (the palette's).
pub fn append_named(histories: &mut Vec<(String, History)>, name: &str, points: &[(u64, f32)], capacity: usize) {
    let at = match histories.iter().position(|(n, _)| n == name) {
        Some(at) => at,
        None => {
            histories.push((name.to_string(), History::new(capacity)));
            histories.len() - 1
        }
    };
    for &(x, y) in points {
        histories[at].1.push(x as f64, f64::from(y));
    }
}

/// Loss curves of several named runs on one chart (`rnn`, `gru`, `lstm`;
/// or `generator`, `discriminator`): each name in its own [`PALETTE`]
/// colour, its per-step loss faint and its moving average on top. The
/// faint lines come first so that no run's raw noise covers another's
/// average, and carry no label: the legend lists each name once. One name
/// alone gives exactly [`loss_series`].
pub fn named_loss_series<S: AsRef<str>>(histories: &[(S, History)]) -> Vec<Series> {
    if let [(_, history)] = histories {
        return loss_series(history);
    }
    let raw = histories.iter().enumerate().map(|(i, (_, history))| Series {
        label: String::new(),
        color: palette_color(i),
        width: RAW_WIDTH,
        alpha: RAW_ALPHA,
        points: history.raw().to_vec(),
    });
    let smooth = histories.iter().enumerate().map(|(i, (name, history))| Series {
        label: name.as_ref().to_owned(),
        color: palette_color(i),
        width: SMOOTH_WIDTH,
        alpha: 1.0,
        points: history.smooth().to_vec(),
    });
    raw.chain(smooth).collect()
}

/// A line chart that fills its container's width, with a legend of its
/// labelled lines under it (a line with an empty label is drawn but not
/// listed). `data-points` on the figure counts the points drawn (tests
/// read it).
#[component]
pub fn LineChart(
    /// The lines to draw.
    #[prop(into)]
    series: Signal<Vec<Series>>,
    /// The `data-testid` of the figure.
    testid: &'static str,
    /// A short description for screen readers and the caption.
    title: &'static str,
    /// Drawn in the middle while there is no data.
    #[prop(default = "No data yet")]
    empty_text: &'static str,
    /// A logarithmic y axis (ticks at powers of ten): for values spanning
    /// decades, such as gradient norms. Points with y <= 0 or not finite
    /// are left out, breaking their line; with none left, the chart shows
    /// `empty_text`.
    #[prop(optional)]
    log_y: bool,
    /// What the x axis counts, drawn small under it ("step"); none by
    /// default, and then no room is taken.
    #[prop(optional)]
    x_label: &'static str,
    /// What the y axis measures, drawn small up the left edge; none by
    /// default, and then no room is taken.
    #[prop(optional)]
    y_label: &'static str,
) -> impl IntoView {
    let axes = Axes {
        log_y,
        x_label,
        y_label,
    };
    let frame = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let size = use_element_size(frame);
    Effect::new(move |_| {
        let size = size.get();
        series.with(|series| {
            if let Some(canvas) = canvas.get() {
                paint(&canvas, size, series, empty_text, &axes);
            }
        });
    });
    let point_count = move || series.with(|s| s.iter().map(|s| s.points.len()).max().unwrap_or(0));
    let legend = move || {
        series.with(|series| {
            series
                .iter()
                .filter(|s| !s.label.is_empty())
                .map(|s| {
                    let swatch = css_rgb(s.color);
                    view! {
                        <li>
                            <span class="swatch" style:background=swatch aria-hidden="true"></span>
                            {s.label.clone()}
                        </li>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <figure class="chart" data-testid=testid data-points=point_count>
            <div class="chart-frame" node_ref=frame>
                <canvas node_ref=canvas role="img" aria-label=title></canvas>
            </div>
            <figcaption>
                <span class="chart-title">{title}</span>
                <ul class="legend">{legend}</ul>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_stays_bounded_and_keeps_the_whole_run() {
        let mut history = History::new(100);
        for step in 1..=10_000 {
            history.push(step as f64, 1.0 / step as f64);
        }
        assert!(history.len() < 100, "{}", history.len());
        assert!(history.len() >= 40, "{}", history.len());
        let last = history.raw()[history.len() - 1];
        assert!(last.0 > 9_000.0, "the newest points are there: {last:?}");
        assert_eq!(history.raw().len(), history.smooth().len());
        // Still decreasing overall.
        assert!(history.raw()[0].1 > last.1);
    }

    #[test]
    fn history_skips_non_finite_values_and_clears() {
        let mut history = History::new(10);
        history.push(1.0, f64::NAN);
        history.push(2.0, f64::INFINITY);
        assert!(history.is_empty());
        history.push(3.0, 0.5);
        assert_eq!(history.raw(), &[(3.0, 0.5)]);
        history.clear();
        assert!(history.is_empty());
    }

    fn history(values: &[f64]) -> History {
        let mut history = History::new(100);
        for (step, &v) in values.iter().enumerate() {
            history.push(step as f64, v);
        }
        history
    }

    #[test]
    fn one_named_history_looks_like_the_plain_loss_chart() {
        let h = history(&[1.0, 0.5, 0.25]);
        assert_eq!(named_loss_series(&[("loss".to_string(), h.clone())]), loss_series(&h));
    }

    #[test]
    fn named_histories_get_their_own_colours_labels_and_order() {
        let names = ["rnn", "gru", "lstm"];
        let histories: Vec<(String, History)> = names
            .iter()
            .zip([1.0, 2.0, 3.0])
            .map(|(name, scale)| (name.to_string(), history(&[scale, scale / 2.0])))
            .collect();
        let series = named_loss_series(&histories);
        assert_eq!(series.len(), 6);
        let (raw, smooth) = series.split_at(3);
        // Faint per-step lines first, unlabelled, under the averages.
        for (i, s) in raw.iter().enumerate() {
            assert_eq!(s.label, "");
            assert!(s.alpha < 1.0 && s.width < smooth[i].width);
            assert_eq!(s.color, smooth[i].color, "a run's two lines share its colour");
            assert_eq!(s.points, histories[i].1.raw());
        }
        let labels: Vec<&str> = smooth.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, names);
        for (i, s) in smooth.iter().enumerate() {
            assert_eq!(s.alpha, 1.0);
            assert_eq!(s.points, histories[i].1.smooth());
            for other in &smooth[i + 1..] {
                assert_ne!(s.color, other.color, "{} and {}", s.label, other.label);
            }
        }
        // &str names work too; nothing named draws nothing.
        assert_eq!(
            named_loss_series(&[("a", History::new(4)), ("b", History::new(4))]).len(),
            4
        );
        assert!(named_loss_series::<&str>(&[]).is_empty());
    }

    #[test]
    fn palette_colours_are_distinct_and_stand_out_on_white() {
        fn luminance(c: Rgb) -> f64 {
            let channel = |v: u8| {
                let v = f64::from(v) / 255.0;
                if v <= 0.03928 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2])
        }
        for (i, &c) in PALETTE.iter().enumerate() {
            let contrast = 1.05 / (luminance(c) + 0.05);
            assert!(contrast >= 3.0, "{c:?} has contrast {contrast:.2} on white");
            assert!(!PALETTE[i + 1..].contains(&c), "{c:?} twice");
        }
        assert_eq!(palette_color(PALETTE.len()), PALETTE[0]);
    }

    #[test]
    fn bounds_start_at_zero_and_cover_everything() {
        let series = vec![Series {
            label: "loss".into(),
            color: [0, 0, 0],
            width: 1.0,
            alpha: 1.0,
            points: vec![(1.0, 2.0), (5.0, 0.5)],
        }];
        let ((x0, x1), (y0, y1)) = chart_bounds(&series).unwrap();
        assert_eq!((x0, x1), (0.0, 5.0));
        assert_eq!(y0, 0.0);
        assert!(y1 >= 2.0);
        assert_eq!(chart_bounds(&[]), None);
    }

    #[test]
    fn log_ticks_sit_on_powers_of_ten() {
        assert_eq!(
            log_ticks(0.5e-6, 20.0, 10),
            vec![1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1.0, 10.0]
        );
        assert_eq!(log_ticks(1e-3, 1.0, 8), vec![1e-3, 1e-2, 0.1, 1.0], "the ends count");
        // Too many decades for the room: every second, then every third.
        assert_eq!(log_ticks(1e-8, 1e2, 6), vec![1e-8, 1e-6, 1e-4, 1e-2, 1.0, 1e2]);
        assert_eq!(log_ticks(1e-8, 1e2, 4), vec![1e-6, 1e-3, 1.0]);
    }

    #[test]
    fn log_ticks_within_a_decade_add_twos_and_fives() {
        assert_eq!(log_ticks(0.15, 1.2, 8), vec![0.2, 0.5, 1.0]);
        assert_eq!(log_ticks(1.5e-5, 8e-5, 8), vec![2e-5, 5e-5]);
        // Just over a decade, but one power of ten only.
        assert_eq!(log_ticks(0.3, 4.0, 8), vec![0.5, 1.0, 2.0]);
        // Too narrow even for those: round linear steps.
        assert_eq!(log_ticks(5.5, 9.5, 4), vec![6.0, 8.0]);
    }

    #[test]
    fn log_ticks_need_a_positive_range() {
        assert!(log_ticks(0.0, 1.0, 5).is_empty());
        assert!(log_ticks(-1.0, 1.0, 5).is_empty());
        assert!(log_ticks(1.0, f64::INFINITY, 5).is_empty());
        assert!(log_ticks(f64::NAN, 1.0, 5).is_empty());
        assert!(log_ticks(2.0, 1.0, 5).is_empty());
    }

    #[test]
    fn log_ticks_read_as_powers_of_ten() {
        assert_eq!(format_log_tick(1e-6), "1e-6");
        assert_eq!(format_log_tick(5e-6), "5e-6");
        assert_eq!(format_log_tick(1e-4), "1e-4");
        assert_eq!(format_log_tick(0.001), "0.001");
        assert_eq!(format_log_tick(0.02), "0.02");
        assert_eq!(format_log_tick(1.0), "1");
        assert_eq!(format_log_tick(1e4), "10000");
        assert_eq!(format_log_tick(1e5), "1e5");
        assert_eq!(format_log_tick(1e12), "1e12");
        assert_eq!(format_log_tick(1.5e-4), "1.5e-4");
    }

    fn line(points: &[(f64, f64)]) -> Series {
        Series {
            label: "norm".into(),
            color: [0, 0, 0],
            width: 1.0,
            alpha: 1.0,
            points: points.to_vec(),
        }
    }

    #[test]
    fn log_bounds_cover_the_positive_values_only() {
        let series = vec![
            line(&[(1.0, 1e-5), (2.0, 0.0), (3.0, -4.0), (4.0, 2.0)]),
            line(&[(9.0, f64::NAN), (6.0, f64::INFINITY), (5.0, 0.5)]),
        ];
        let ((x0, x1), (y0, y1)) = chart_bounds_log(&series).unwrap();
        // x from zero to the last drawable point; the NaN's x does not count.
        assert_eq!((x0, x1), (0.0, 5.0));
        // y padded a little around 1e-5..2, with no forced zero.
        assert!(y0 < 1e-5 && y0 > 1e-6, "{y0}");
        assert!(y1 > 2.0 && y1 < 20.0, "{y1}");
    }

    #[test]
    fn log_bounds_of_a_flat_line_span_half_a_decade() {
        let ((_, _), (y0, y1)) = chart_bounds_log(&[line(&[(0.0, 0.01), (1.0, 0.01)])]).unwrap();
        assert!(
            (y0.log10() + 2.25).abs() < 1e-9 && (y1.log10() + 1.75).abs() < 1e-9,
            "{y0} {y1}"
        );
        let ((x0, x1), _) = chart_bounds_log(&[line(&[(0.0, 3.0)])]).unwrap();
        assert_eq!((x0, x1), (0.0, 1.0));
    }

    #[test]
    fn log_bounds_need_a_positive_value() {
        assert_eq!(chart_bounds_log(&[]), None);
        assert_eq!(chart_bounds_log(&[line(&[])]), None);
        assert_eq!(
            chart_bounds_log(&[line(&[(1.0, 0.0), (2.0, -1.0), (3.0, f64::NAN)])]),
            None
        );
    }

    #[test]
    fn a_chart_without_axis_labels_keeps_its_margins() {
        let scale = Scale::new((300.0, 200.0), &Axes::default(), (0.0, 10.0), (0.0, 1.0));
        assert_eq!((scale.left, scale.top), (MARGIN_LEFT, MARGIN_TOP));
        assert_eq!(scale.width, 300.0 - MARGIN_LEFT - MARGIN_RIGHT);
        assert_eq!(scale.height, 200.0 - MARGIN_TOP - MARGIN_BOTTOM);
        let labelled = Axes {
            x_label: "step",
            y_label: "norm",
            ..Axes::default()
        };
        let roomier = Scale::new((300.0, 200.0), &labelled, (0.0, 10.0), (0.0, 1.0));
        assert!(roomier.left > scale.left && roomier.width < scale.width);
        assert!(roomier.height < scale.height && roomier.top == scale.top);
        let only_x = Axes {
            x_label: "step",
            ..Axes::default()
        };
        assert_eq!(
            Scale::new((300.0, 200.0), &only_x, (0.0, 10.0), (0.0, 1.0)).left,
            MARGIN_LEFT
        );
    }

    #[test]
    fn scales_map_the_ends_to_the_plot_edges() {
        let linear = Scale::new((300.0, 200.0), &Axes::default(), (0.0, 10.0), (0.0, 2.0));
        assert_eq!(linear.px(0.0), linear.left);
        assert_eq!(linear.px(10.0), linear.right());
        assert_eq!(linear.py(0.0), linear.bottom());
        assert_eq!(linear.py(2.0), linear.top);
        assert_eq!(linear.py(1.0), linear.top + linear.height / 2.0);
        assert!(linear.shows(0.0) && linear.shows(-1.0));
        let log_axes = Axes {
            log_y: true,
            ..Axes::default()
        };
        let log = Scale::new((300.0, 200.0), &log_axes, (0.0, 10.0), (1e-4, 1.0));
        assert!((log.py(1e-4) - log.bottom()).abs() < 1e-9);
        assert!((log.py(1.0) - log.top).abs() < 1e-9);
        // Each decade takes the same height.
        assert!((log.py(1e-2) - (log.top + log.height / 2.0)).abs() < 1e-9);
        assert!((log.py(1e-3) - log.py(1e-2) - log.height / 4.0).abs() < 1e-9);
        assert!(log.shows(1e-9) && !log.shows(0.0) && !log.shows(-1.0) && !log.shows(f64::NAN));
        let labels: Vec<String> = log.y_ticks(8).into_iter().map(|t| t.1).collect();
        assert_eq!(labels, ["1e-4", "0.001", "0.01", "0.1", "1"]);
    }
}
