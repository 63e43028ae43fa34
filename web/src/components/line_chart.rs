//! A line chart on a canvas that follows its container's width, and the
//! bounded history a live curve keeps.

use leptos::html;
use leptos::prelude::*;

use super::canvas::{prepare, use_element_size};
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

/// Axis ranges covering every point and zero, so that a loss curve sits on
/// a true zero and starts at step 0.
pub fn chart_bounds(series: &[Series]) -> Option<((f64, f64), (f64, f64))> {
    let mut points = series.iter().flat_map(|s| s.points.iter());
    let first = points.next()?;
    let (mut x0, mut x1, mut y0, mut y1) = (first.0, first.0, first.1, first.1);
    for &(x, y) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    // Steps count from zero; so does the axis.
    let x0 = x0.min(0.0);
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    let y0 = y0.min(0.0);
    let y1 = if y1 <= y0 { y0 + 1.0 } else { y1 * 1.05 };
    Some(((x0, x1), (y0, y1)))
}

const MARGIN_LEFT: f64 = 46.0;
const MARGIN_RIGHT: f64 = 12.0;
const MARGIN_TOP: f64 = 10.0;
const MARGIN_BOTTOM: f64 = 26.0;
const AXIS_COLOR: &str = "#8a94a6";
const GRID_COLOR: &str = "#e6e9ef";
const TEXT_COLOR: &str = "#4a5568";

fn paint(canvas: &web_sys::HtmlCanvasElement, size: (f64, f64), series: &[Series], empty_text: &str) {
    let (width, height) = size;
    let Some(ctx) = prepare(canvas, width, height) else {
        return;
    };
    ctx.set_font("12px system-ui, -apple-system, 'Segoe UI', sans-serif");
    ctx.set_fill_style_str(TEXT_COLOR);
    let Some(((x0, x1), (y0, y1))) = chart_bounds(series) else {
        ctx.set_text_align("center");
        let _ = ctx.fill_text(empty_text, width / 2.0, height / 2.0);
        return;
    };
    let plot_w = (width - MARGIN_LEFT - MARGIN_RIGHT).max(1.0);
    let plot_h = (height - MARGIN_TOP - MARGIN_BOTTOM).max(1.0);
    let px = |x: f64| MARGIN_LEFT + (x - x0) / (x1 - x0) * plot_w;
    let py = |y: f64| MARGIN_TOP + (1.0 - (y - y0) / (y1 - y0)) * plot_h;

    // Grid and tick labels.
    ctx.set_line_width(1.0);
    ctx.set_text_align("right");
    ctx.set_text_baseline("middle");
    let y_ticks = ((plot_h / 36.0) as usize).clamp(2, 8);
    for tick in nice_ticks(y0, y1, y_ticks) {
        let y = py(tick).round() + 0.5;
        ctx.set_stroke_style_str(GRID_COLOR);
        ctx.begin_path();
        ctx.move_to(MARGIN_LEFT, y);
        ctx.line_to(MARGIN_LEFT + plot_w, y);
        ctx.stroke();
        let _ = ctx.fill_text(&format_number(tick), MARGIN_LEFT - 6.0, y);
    }
    ctx.set_text_align("center");
    ctx.set_text_baseline("top");
    let x_ticks = ((plot_w / 70.0) as usize).clamp(2, 10);
    for tick in nice_ticks(x0, x1, x_ticks) {
        let x = px(tick).round() + 0.5;
        ctx.set_stroke_style_str(GRID_COLOR);
        ctx.begin_path();
        ctx.move_to(x, MARGIN_TOP);
        ctx.line_to(x, MARGIN_TOP + plot_h);
        ctx.stroke();
        let _ = ctx.fill_text(&format_number(tick), x, MARGIN_TOP + plot_h + 6.0);
    }
    ctx.set_stroke_style_str(AXIS_COLOR);
    ctx.begin_path();
    ctx.move_to(MARGIN_LEFT + 0.5, MARGIN_TOP);
    ctx.line_to(MARGIN_LEFT + 0.5, MARGIN_TOP + plot_h + 0.5);
    ctx.line_to(MARGIN_LEFT + plot_w, MARGIN_TOP + plot_h + 0.5);
    ctx.stroke();

    // The lines, clipped to the plot.
    ctx.save();
    ctx.begin_path();
    ctx.rect(MARGIN_LEFT, MARGIN_TOP, plot_w, plot_h);
    ctx.clip();
    ctx.set_line_join("round");
    for s in series {
        if s.points.is_empty() {
            continue;
        }
        ctx.set_global_alpha(s.alpha);
        ctx.set_stroke_style_str(&css_rgb(s.color));
        ctx.set_line_width(s.width);
        ctx.begin_path();
        for (i, &(x, y)) in s.points.iter().enumerate() {
            if i == 0 {
                ctx.move_to(px(x), py(y));
            } else {
                ctx.line_to(px(x), py(y));
            }
        }
        if s.points.len() == 1 {
            ctx.arc(px(s.points[0].0), py(s.points[0].1), 2.0, 0.0, std::f64::consts::TAU)
                .ok();
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
) -> impl IntoView {
    let frame = NodeRef::<html::Div>::new();
    let canvas = NodeRef::<html::Canvas>::new();
    let size = use_element_size(frame);
    Effect::new(move |_| {
        let size = size.get();
        series.with(|series| {
            if let Some(canvas) = canvas.get() {
                paint(&canvas, size, series, empty_text);
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
                    let swatch = format!("background:{}", css_rgb(s.color));
                    view! {
                        <li>
                            <span class="swatch" style=swatch aria-hidden="true"></span>
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
}
