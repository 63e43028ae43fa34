//! Tensors to pixels: pure functions, no browser needed, so they are tested
//! natively. The canvas components only copy these pixels to the screen.

/// An RGBA image, row-major, 4 bytes per pixel, row 0 at the top.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RgbaImage {
    pub width: u32,
    pub height: u32,
    pub pixels: Vec<u8>,
}

impl RgbaImage {
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            width,
            height,
            pixels: vec![0; width as usize * height as usize * 4],
        }
    }

    pub fn pixel(&self, x: u32, y: u32) -> [u8; 4] {
        let i = (y as usize * self.width as usize + x as usize) * 4;
        [
            self.pixels[i],
            self.pixels[i + 1],
            self.pixels[i + 2],
            self.pixels[i + 3],
        ]
    }
}

pub type Rgb = [u8; 3];

/// How a single-channel tensor becomes colours.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ColorMap {
    /// Blue for negative, white for zero, red for positive; symmetric around
    /// zero with the largest |value| at full colour. For weights and
    /// gradients, whose sign matters.
    Diverging,
    /// Dark purple (smallest) to yellow (largest), min-max normalised. For
    /// activations, intensities, probabilities.
    Sequential,
    /// Black (smallest) to white (largest), min-max normalised. For images.
    Grey,
}

/// Colours for class 0, 1, 2 (and beyond, cycling): orange, blue, green,
/// distinguishable with the common colour-vision deficiencies.
pub const CLASS_COLORS: [Rgb; 4] = [[230, 126, 34], [41, 128, 185], [39, 174, 96], [142, 68, 173]];

pub fn class_color(class: usize) -> Rgb {
    CLASS_COLORS[class % CLASS_COLORS.len()]
}

/// CSS `rgb()` text for a colour.
pub fn css_rgb(c: Rgb) -> String {
    format!("rgb({},{},{})", c[0], c[1], c[2])
}

fn lerp(a: Rgb, b: Rgb, t: f32) -> Rgb {
    let t = t.clamp(0.0, 1.0);
    let mix = |x: u8, y: u8| (f32::from(x) + (f32::from(y) - f32::from(x)) * t).round() as u8;
    [mix(a[0], b[0]), mix(a[1], b[1]), mix(a[2], b[2])]
}

/// Piecewise-linear interpolation through evenly spaced colour stops.
fn through_stops(stops: &[Rgb], t: f32) -> Rgb {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    let scaled = t * (stops.len() - 1) as f32;
    let i = (scaled.floor() as usize).min(stops.len() - 2);
    lerp(stops[i], stops[i + 1], scaled - i as f32)
}

/// Diverging colour of `value` on a scale whose ends are `-max_abs` and
/// `+max_abs`. Zero (or a zero scale) is white.
pub fn diverging(value: f32, max_abs: f32) -> Rgb {
    const NEGATIVE: [Rgb; 3] = [[33, 102, 172], [103, 169, 207], [247, 247, 247]];
    const POSITIVE: [Rgb; 3] = [[247, 247, 247], [239, 138, 98], [178, 24, 43]];
    if max_abs.is_nan() || max_abs <= 0.0 || !value.is_finite() {
        return [247, 247, 247];
    }
    let t = (value / max_abs).clamp(-1.0, 1.0);
    if t < 0.0 {
        through_stops(&NEGATIVE, 1.0 + t)
    } else {
        through_stops(&POSITIVE, t)
    }
}

/// Sequential colour for `t` in [0, 1] (a viridis-like ramp: perceptually
/// ordered, readable in grey).
pub fn sequential(t: f32) -> Rgb {
    const VIRIDIS: [Rgb; 5] = [
        [68, 1, 84],
        [59, 82, 139],
        [33, 145, 140],
        [94, 201, 98],
        [253, 231, 37],
    ];
    through_stops(&VIRIDIS, t)
}

/// Smallest and largest finite values (0, 0 when there are none).
pub fn finite_range(data: &[f32]) -> (f32, f32) {
    let mut range: Option<(f32, f32)> = None;
    for &v in data.iter().filter(|v| v.is_finite()) {
        range = Some(match range {
            None => (v, v),
            Some((lo, hi)) => (lo.min(v), hi.max(v)),
        });
    }
    range.unwrap_or((0.0, 0.0))
}

/// A `height` x `width` single-channel tensor (row-major) as an image.
pub fn tensor_to_image(data: &[f32], width: u32, height: u32, map: ColorMap) -> RgbaImage {
    assert_eq!(
        data.len(),
        width as usize * height as usize,
        "tensor_to_image: data does not match {width}x{height}"
    );
    let (lo, hi) = finite_range(data);
    let max_abs = lo.abs().max(hi.abs());
    let span = hi - lo;
    let mut image = RgbaImage::new(width, height);
    for (px, &v) in image.pixels.chunks_exact_mut(4).zip(data) {
        let normalised = if span > 0.0 { (v - lo) / span } else { 0.5 };
        let rgb = match map {
            ColorMap::Diverging => diverging(v, max_abs),
            ColorMap::Sequential => sequential(normalised),
            ColorMap::Grey => {
                let g = (normalised.clamp(0.0, 1.0) * 255.0).round() as u8;
                [g, g, g]
            }
        };
        px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
    }
    image
}

/// The decision regions of a classifier: `probs` is `[rows, cols, classes]`
/// (row 0 at the top). Each pixel is the probability-weighted mix of the
/// class colours, washed towards white where the model is unsure, so the
/// boundary shows as a pale band and confident regions as clear tints.
pub fn class_probability_image(probs: &[f32], rows: usize, cols: usize, classes: usize) -> RgbaImage {
    assert!(classes > 0, "class_probability_image: no classes");
    assert_eq!(probs.len(), rows * cols * classes, "class_probability_image: bad shape");
    const WHITE: Rgb = [255, 255, 255];
    // Regions stay light tints so the data points on top stay readable.
    const MAX_TINT: f32 = 0.62;
    let mut image = RgbaImage::new(cols as u32, rows as u32);
    for (px, p) in image.pixels.chunks_exact_mut(4).zip(probs.chunks_exact(classes)) {
        let mut mixed = [0.0f32; 3];
        let mut best = 0.0f32;
        let mut total = 0.0f32;
        for (k, &pk) in p.iter().enumerate() {
            let pk = if pk.is_finite() { pk.max(0.0) } else { 0.0 };
            let c = class_color(k);
            for ch in 0..3 {
                mixed[ch] += pk * f32::from(c[ch]);
            }
            best = best.max(pk);
            total += pk;
        }
        let rgb = if total > 0.0 {
            let blend = [
                (mixed[0] / total).round() as u8,
                (mixed[1] / total).round() as u8,
                (mixed[2] / total).round() as u8,
            ];
            // 1/K (a coin toss) -> white; 1 (certain) -> full tint.
            let chance = 1.0 / classes as f32;
            let confidence = if classes > 1 {
                ((best / total - chance) / (1.0 - chance)).clamp(0.0, 1.0)
            } else {
                1.0
            };
            lerp(WHITE, blend, MAX_TINT * confidence.sqrt())
        } else {
            WHITE
        };
        px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
    }
    image
}

/// Maps a data coordinate in `[-extent, extent]` to a pixel coordinate in
/// `[0, size]`; `flip` for the y axis (up is smaller pixel y).
pub fn data_to_pixel(value: f32, extent: f32, size: f64, flip: bool) -> f64 {
    let t = f64::from((value + extent) / (2.0 * extent));
    if flip {
        (1.0 - t) * size
    } else {
        t * size
    }
}

/// About `max_count` round tick values covering [lo, hi] (steps of 1, 2 or
/// 5 times a power of ten), in increasing order.
pub fn nice_ticks(lo: f64, hi: f64, max_count: usize) -> Vec<f64> {
    if !lo.is_finite() || !hi.is_finite() || max_count < 2 {
        return Vec::new();
    }
    let (lo, hi) = if hi > lo { (lo, hi) } else { (lo - 0.5, lo + 0.5) };
    let raw_step = (hi - lo) / (max_count - 1) as f64;
    let magnitude = 10f64.powf(raw_step.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw_step)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A short label for a tick or a readout: 3 significant digits, no
/// trailing noise (`0.1`, `250`, `1.5e-4`).
pub fn format_number(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    if !v.is_finite() {
        return format!("{v}");
    }
    let a = v.abs();
    if (1e5..1e12).contains(&a) {
        // Step counts: 250k, 1.5M, 2B.
        let (scale, suffix) = [(1e9, "B"), (1e6, "M"), (1e3, "k")]
            .into_iter()
            .find(|(scale, _)| a >= *scale)
            .unwrap_or((1.0, ""));
        return format!("{}{suffix}", format_number(v / scale));
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.1e}");
    }
    let decimals = (2 - a.log10().floor() as i32).clamp(0, 6) as usize;
    let text = format!("{v:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_is_white_at_zero_and_saturates_at_the_ends() {
        assert_eq!(diverging(0.0, 1.0), [247, 247, 247]);
        assert_eq!(diverging(-1.0, 1.0), [33, 102, 172]);
        assert_eq!(diverging(1.0, 1.0), [178, 24, 43]);
        assert_eq!(diverging(5.0, 1.0), diverging(1.0, 1.0), "clamped");
        assert_eq!(diverging(1.0, 0.0), [247, 247, 247], "zero scale");
        assert_eq!(diverging(f32::NAN, 1.0), [247, 247, 247]);
        // Negative is blue-ish, positive red-ish.
        let neg = diverging(-0.5, 1.0);
        let pos = diverging(0.5, 1.0);
        assert!(neg[2] > neg[0] && pos[0] > pos[2]);
    }

    #[test]
    fn sequential_gets_brighter() {
        let luma = |c: Rgb| 0.3 * f32::from(c[0]) + 0.59 * f32::from(c[1]) + 0.11 * f32::from(c[2]);
        let steps: Vec<f32> = (0..=10).map(|i| luma(sequential(i as f32 / 10.0))).collect();
        assert!(steps.windows(2).all(|w| w[1] > w[0]), "{steps:?}");
        assert_eq!(sequential(-1.0), sequential(0.0));
        assert_eq!(sequential(f32::NAN), sequential(0.0));
    }

    #[test]
    fn tensor_to_image_maps_every_value() {
        let image = tensor_to_image(&[-2.0, 0.0, 2.0, 1.0], 2, 2, ColorMap::Diverging);
        assert_eq!(image.pixels.len(), 16);
        assert_eq!(image.pixel(0, 0), [33, 102, 172, 255]);
        assert_eq!(image.pixel(1, 0), [247, 247, 247, 255]);
        assert_eq!(image.pixel(0, 1), [178, 24, 43, 255]);
        let grey = tensor_to_image(&[0.0, 1.0], 2, 1, ColorMap::Grey);
        assert_eq!(grey.pixel(0, 0), [0, 0, 0, 255]);
        assert_eq!(grey.pixel(1, 0), [255, 255, 255, 255]);
        // A constant tensor is not a division by zero.
        let flat = tensor_to_image(&[3.0; 4], 2, 2, ColorMap::Sequential);
        assert_eq!(flat.pixel(0, 0), flat.pixel(1, 1));
    }

    #[test]
    fn class_probabilities_tint_confident_regions_and_whiten_unsure_ones() {
        // Three pixels, two classes: sure of 0, unsure, sure of 1.
        let probs = [1.0, 0.0, 0.5, 0.5, 0.0, 1.0];
        let image = class_probability_image(&probs, 1, 3, 2);
        let sure0 = image.pixel(0, 0);
        let unsure = image.pixel(1, 0);
        let sure1 = image.pixel(2, 0);
        assert_eq!(unsure, [255, 255, 255, 255]);
        // Class 0 is orange (red > blue); class 1 is blue.
        assert!(sure0[0] > sure0[2]);
        assert!(sure1[2] > sure1[0]);
        // NaN probabilities draw white instead of garbage.
        let nan = class_probability_image(&[f32::NAN, f32::NAN], 1, 1, 2);
        assert_eq!(nan.pixel(0, 0), [255, 255, 255, 255]);
    }

    #[test]
    fn data_to_pixel_maps_the_extent_onto_the_canvas() {
        assert_eq!(data_to_pixel(-1.0, 1.0, 200.0, false), 0.0);
        assert_eq!(data_to_pixel(1.0, 1.0, 200.0, false), 200.0);
        assert_eq!(data_to_pixel(1.0, 1.0, 200.0, true), 0.0);
        assert_eq!(data_to_pixel(0.0, 1.0, 200.0, true), 100.0);
    }

    #[test]
    fn nice_ticks_are_round_and_inside_the_range() {
        assert_eq!(
            nice_ticks(0.0, 1.0, 6),
            vec![0.0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0]
        );
        let ticks = nice_ticks(0.0, 1234.0, 5);
        assert_eq!(ticks, vec![0.0, 500.0, 1000.0]);
        assert!(nice_ticks(f64::NAN, 1.0, 5).is_empty());
        // A flat range still gets ticks around it.
        assert!(!nice_ticks(2.0, 2.0, 5).is_empty());
    }

    #[test]
    fn numbers_format_short() {
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_number(0.1), "0.1");
        assert_eq!(format_number(250.0), "250");
        assert_eq!(format_number(1.2345), "1.23");
        assert_eq!(format_number(0.000_15), "1.5e-4");
        assert_eq!(format_number(99_999.0), "99999");
        assert_eq!(format_number(150_000.0), "150k");
        assert_eq!(format_number(2_500_000.0), "2.5M");
        assert_eq!(format_number(1e15), "1.0e15");
        assert_eq!(format_number(f64::NAN), "NaN");
    }
}

/// A `width` x `height` image in the diverging colour map with a scale
/// shared by several images (`max_abs`), so kernels of one layer compare:
/// white is zero, red positive, blue negative.
pub fn diverging_image(data: &[f32], width: u32, height: u32, max_abs: f32) -> RgbaImage {
    let mut image = RgbaImage::new(width, height);
    for (px, &v) in image.pixels.chunks_exact_mut(4).zip(data) {
        let rgb = diverging(v, max_abs);
        px.copy_from_slice(&[rgb[0], rgb[1], rgb[2], 255]);
    }
    image
}

/// Ink in [0, 1] as dark strokes on white, like a digit on paper.
pub fn ink_image(data: &[f32], width: u32, height: u32) -> RgbaImage {
    let mut image = RgbaImage::new(width, height);
    for (px, &v) in image.pixels.chunks_exact_mut(4).zip(data) {
        let g = (255.0 * (1.0 - v.clamp(0.0, 1.0))).round() as u8;
        px.copy_from_slice(&[g, g, g, 255]);
    }
    image
}

#[cfg(test)]
mod kernel_image_tests {
    use super::*;

    #[test]
    fn shared_scale_keeps_zero_white_and_signs_apart() {
        let img = diverging_image(&[-1.0, 0.0, 0.5, 2.0], 4, 1, 2.0);
        assert_eq!(img.pixel(1, 0), [247, 247, 247, 255]);
        let [r, _, b, _] = img.pixel(0, 0);
        assert!(b > r, "negative is blue");
        let [r, _, b, _] = img.pixel(3, 0);
        assert!(r > b, "positive is red");
        assert_ne!(img.pixel(2, 0), img.pixel(3, 0), "0.5 and 2.0 differ on a shared scale");
        let ink = ink_image(&[0.0, 1.0], 2, 1);
        assert_eq!((ink.pixel(0, 0)[0], ink.pixel(1, 0)[0]), (255, 0));
    }
}
