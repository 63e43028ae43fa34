//! MNIST in the IDX format (gzipped, as distributed), the conventional
//! normalisation, seeded shift augmentation, and the preprocessing that makes a
//! hand drawing look like an MNIST digit.
//!
//! IDX: a big-endian u32 magic (0x00000803 images, 0x00000801 labels), one
//! big-endian u32 per dimension, then the u8 data.

use super::gzip::gunzip;
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::IxDyn;

/// The project's convention for MNIST-10k: the first 8,000 train, the rest test.
pub const TRAIN_COUNT: usize = 8000;
/// Mean and standard deviation of MNIST pixels in [0, 1] (the usual constants).
pub const PIXEL_MEAN: f32 = 0.1307;
pub const PIXEL_STD: f32 = 0.3081;

#[derive(Debug, Clone)]
pub struct Mnist {
    pub rows: usize,
    pub cols: usize,
    /// count * rows * cols bytes, 0 = background, 255 = ink.
    pub pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

fn be_u32(bytes: &[u8], at: usize, what: &str) -> Result<usize> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .ok_or_else(|| Error::Decode(format!("{what}: IDX header truncated")))
}

/// Parse an IDX file with the given magic; returns (dims, data).
fn parse_idx<'a>(bytes: &'a [u8], magic: usize, what: &str) -> Result<(Vec<usize>, &'a [u8])> {
    let found = be_u32(bytes, 0, what)?;
    if found != magic {
        return Err(Error::Decode(format!(
            "{what}: wrong IDX magic 0x{found:08x}, expected 0x{magic:08x}"
        )));
    }
    let rank = magic & 0xff;
    let dims = (0..rank)
        .map(|i| be_u32(bytes, 4 + 4 * i, what))
        .collect::<Result<Vec<_>>>()?;
    let start = 4 + 4 * rank;
    let count = dims.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let body = bytes.get(start..).unwrap_or(&[]);
    match count {
        Some(n) if n == body.len() => Ok((dims, body)),
        _ => Err(Error::Decode(format!(
            "{what}: header promises {dims:?} but {} data bytes follow (truncated?)",
            body.len()
        ))),
    }
}

impl Mnist {
    /// From the two gzipped IDX files.
    pub fn from_gzip(images_gz: &[u8], labels_gz: &[u8]) -> Result<Self> {
        Self::from_idx(&gunzip(images_gz)?, &gunzip(labels_gz)?)
    }

    /// From the two uncompressed IDX files.
    pub fn from_idx(images: &[u8], labels: &[u8]) -> Result<Self> {
        let (dims, pixels) = parse_idx(images, 0x0803, "images")?;
        let (ldims, labels) = parse_idx(labels, 0x0801, "labels")?;
        if dims[0] != ldims[0] {
            return Err(Error::Decode(format!("{} images but {} labels", dims[0], ldims[0])));
        }
        if let Some(bad) = labels.iter().find(|&&l| l > 9) {
            return Err(Error::Decode(format!("label {bad} is not a digit")));
        }
        Ok(Mnist {
            rows: dims[1],
            cols: dims[2],
            pixels: pixels.to_vec(),
            labels: labels.to_vec(),
        })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn image_size(&self) -> usize {
        self.rows * self.cols
    }

    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * self.image_size()..(i + 1) * self.image_size()]
    }

    /// Indices of the training split.
    pub fn train_indices(&self) -> core::ops::Range<usize> {
        0..TRAIN_COUNT.min(self.len())
    }

    /// Indices of the test split (never trained on).
    pub fn test_indices(&self) -> core::ops::Range<usize> {
        TRAIN_COUNT.min(self.len())..self.len()
    }

    /// A normalised batch [N, 1, rows, cols] with its labels. With `shift`,
    /// each image moves by up to `max_shift` pixels in x and y (zeros fill in).
    pub fn batch(&self, indices: &[usize], shift: Option<(&mut Rng, usize)>) -> (Tensor, Vec<usize>) {
        let (h, w) = (self.rows, self.cols);
        let mut data = vec![normalize(0.0); indices.len() * h * w];
        let mut shift = shift;
        for (k, &i) in indices.iter().enumerate() {
            let (dy, dx) = match shift.as_mut() {
                Some((rng, max)) if *max > 0 => {
                    let span = 2 * *max + 1;
                    (
                        rng.below(span) as isize - *max as isize,
                        rng.below(span) as isize - *max as isize,
                    )
                }
                _ => (0, 0),
            };
            let src = self.image(i);
            let dst = &mut data[k * h * w..(k + 1) * h * w];
            for y in 0..h {
                let sy = y as isize - dy;
                if sy < 0 || sy >= h as isize {
                    continue;
                }
                for x in 0..w {
                    let sx = x as isize - dx;
                    if sx >= 0 && sx < w as isize {
                        dst[y * w + x] = normalize(f32::from(src[sy as usize * w + sx as usize]) / 255.0);
                    }
                }
            }
        }
        let labels = indices.iter().map(|&i| usize::from(self.labels[i])).collect();
        (
            Tensor::from_shape_vec(IxDyn(&[indices.len(), 1, h, w]), data).expect("sized"),
            labels,
        )
    }
}

/// A pixel in [0, 1] (1 = ink) to the network's input scale.
pub fn normalize(ink: f32) -> f32 {
    (ink - PIXEL_MEAN) / PIXEL_STD
}

/// Turn a drawing (ink in [0, 1], row-major `width` x `height`) into a 28x28
/// image the way MNIST was made: the ink's bounding box is scaled to fit a
/// 20x20 box (keeping its aspect ratio, area-averaged so strokes stay smooth),
/// then placed so that its centre of mass is at the centre of the 28x28 field.
/// Returns 784 values in [0, 1]; an empty drawing gives all zeros.
pub fn center_like_mnist(ink: &[f32], width: usize, height: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; 28 * 28];
    if ink.len() != width * height || width == 0 || height == 0 {
        return out;
    }
    let (mut x0, mut y0, mut x1, mut y1) = (width, height, 0, 0);
    for y in 0..height {
        for x in 0..width {
            if ink[y * width + x] > 0.05 {
                x0 = x0.min(x);
                y0 = y0.min(y);
                x1 = x1.max(x + 1);
                y1 = y1.max(y + 1);
            }
        }
    }
    if x1 <= x0 || y1 <= y0 {
        return out;
    }
    let (bw, bh) = ((x1 - x0) as f32, (y1 - y0) as f32);
    let scale = 20.0 / bw.max(bh);
    let (tw, th) = (
        libm::roundf(bw * scale).max(1.0) as usize,
        libm::roundf(bh * scale).max(1.0) as usize,
    );
    // Area-average the bounding box down (or up) to tw x th.
    let mut small = vec![0.0f32; tw * th];
    for ty in 0..th {
        for tx in 0..tw {
            let (sx0, sx1) = (x0 as f32 + tx as f32 / scale, x0 as f32 + (tx + 1) as f32 / scale);
            let (sy0, sy1) = (y0 as f32 + ty as f32 / scale, y0 as f32 + (ty + 1) as f32 / scale);
            let (mut sum, mut area) = (0.0, 0.0);
            let mut sy = libm::floorf(sy0);
            while sy < sy1 {
                let hy = (sy + 1.0).min(sy1) - sy.max(sy0);
                let mut sx = libm::floorf(sx0);
                while sx < sx1 {
                    let wx = (sx + 1.0).min(sx1) - sx.max(sx0);
                    let (ix, iy) = (sx as usize, sy as usize);
                    if ix < width && iy < height {
                        sum += ink[iy * width + ix] * wx * hy;
                    }
                    area += wx * hy;
                    sx += 1.0;
                }
                sy += 1.0;
            }
            small[ty * tw + tx] = if area > 0.0 { (sum / area).clamp(0.0, 1.0) } else { 0.0 };
        }
    }
    // Centre of mass of the scaled digit, moved to (14, 14).
    let (mut mass, mut cx, mut cy) = (0.0f32, 0.0f32, 0.0f32);
    for y in 0..th {
        for x in 0..tw {
            let m = small[y * tw + x];
            mass += m;
            cx += m * (x as f32 + 0.5);
            cy += m * (y as f32 + 0.5);
        }
    }
    if mass <= 0.0 {
        return out;
    }
    let (ox, oy) = (
        libm::roundf(14.0 - cx / mass) as isize,
        libm::roundf(14.0 - cy / mass) as isize,
    );
    for y in 0..th {
        for x in 0..tw {
            let (dx, dy) = (x as isize + ox, y as isize + oy);
            if (0..28).contains(&dx) && (0..28).contains(&dy) {
                out[dy as usize * 28 + dx as usize] = small[y * tw + x];
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::gzip::gzip;

    fn idx(magic: u32, dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = magic.to_be_bytes().to_vec();
        for d in dims {
            out.extend(d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn decodes_good_files_and_names_what_is_wrong_with_bad_ones() {
        let pixels: Vec<u8> = (0..3 * 4 * 4).map(|i| i as u8).collect();
        let images = idx(0x803, &[3, 4, 4], &pixels);
        let labels = idx(0x801, &[3], &[7, 0, 9]);
        let m = Mnist::from_gzip(&gzip(&images), &gzip(&labels)).unwrap();
        assert_eq!((m.len(), m.rows, m.cols), (3, 4, 4));
        assert_eq!(m.image(1)[0], 16);
        let msg = |r: Result<Mnist>| alloc::string::ToString::to_string(&r.unwrap_err());
        assert!(msg(Mnist::from_idx(&labels, &labels)).contains("wrong IDX magic"));
        assert!(msg(Mnist::from_idx(&images[..images.len() - 1], &labels)).contains("truncated"));
        assert!(msg(Mnist::from_idx(&images[..6], &labels)).contains("truncated"));
        assert!(msg(Mnist::from_gzip(&images, &labels)).contains("not a gzip"));
        assert!(msg(Mnist::from_idx(&images, &idx(0x801, &[2], &[1, 2]))).contains("3 images but 2 labels"));
        assert!(msg(Mnist::from_idx(&images, &idx(0x801, &[3], &[1, 2, 10]))).contains("not a digit"));
    }

    #[test]
    fn shifted_batches_move_the_ink_and_stay_seeded() {
        let mut pixels = vec![0u8; 2 * 8 * 8];
        pixels[3 * 8 + 3] = 255; // one ink pixel in image 0
        let m = Mnist::from_idx(&idx(0x803, &[2, 8, 8], &pixels), &idx(0x801, &[2], &[1, 2])).unwrap();
        let (plain, labels) = m.batch(&[0], None);
        assert_eq!(labels, vec![1]);
        assert_eq!(plain[[0, 0, 3, 3]], normalize(1.0));
        let ink_at = |t: &Tensor| t.iter().position(|&v| v > 0.0);
        let (a, _) = m.batch(&[0, 0, 0, 0], Some((&mut Rng::new(1), 2)));
        let (b, _) = m.batch(&[0, 0, 0, 0], Some((&mut Rng::new(1), 2)));
        assert_eq!(a, b);
        assert!(
            a.outer_iter().any(|img| ink_at(&img.to_owned()) != Some(3 * 8 + 3)),
            "some image moved"
        );
    }

    #[test]
    fn drawings_are_scaled_to_20_pixels_and_centred_by_mass() {
        // A 10-wide, 40-tall bar in the corner of a 100x100 canvas.
        let mut ink = vec![0.0f32; 100 * 100];
        for y in 5..45 {
            for x in 2..12 {
                ink[y * 100 + x] = 1.0;
            }
        }
        let img = center_like_mnist(&ink, 100, 100);
        let rows: Vec<usize> = (0..28).filter(|&y| (0..28).any(|x| img[y * 28 + x] > 0.5)).collect();
        let cols: Vec<usize> = (0..28).filter(|&x| (0..28).any(|y| img[y * 28 + x] > 0.5)).collect();
        assert_eq!(rows.len(), 20, "tallest side scaled to 20");
        assert_eq!(cols.len(), 5);
        assert!((rows[0] + rows[19]) / 2 == 13 || (rows[0] + rows[19]) / 2 == 14);
        assert!(center_like_mnist(&vec![0.0; 100], 10, 10).iter().all(|&v| v == 0.0));
    }
}
