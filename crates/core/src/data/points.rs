//! 2-D point clouds to learn the *distribution* of (the Diffusion lab's
//! data): no labels, just where points lie. Each shape is scaled to about
//! [-2, 2]^2, so that the standard normal noise a diffusion model starts
//! from covers it, as DDPM assumes of data scaled to unit variance.

use crate::error::{Error, Result};
use crate::rng::Rng;
use alloc::format;
use alloc::vec::Vec;
use core::f32::consts::PI;

/// Drawn data needs at least this many points to have a shape to learn.
pub const MIN_DRAWN_POINTS: usize = 20;
/// And at most this many: enough for any drawing, small enough for a URL.
pub const MAX_DRAWN_POINTS: usize = 400;
/// The drawing area and the plots: [-EXTENT, EXTENT]^2.
pub const EXTENT: f32 = 3.0;
/// How far a drawn point's copies spread (the drawing is a kernel density).
const DRAWN_SPREAD: f32 = 0.06;

#[derive(Clone, Debug, PartialEq)]
pub enum PointCloud {
    /// Eight Gaussians on a circle of radius 2: separate modes to cover.
    Ring,
    /// Twenty-five Gaussians on a 5 x 5 grid, one unit apart: many small
    /// modes, the hardest to cover all of.
    Grid,
    /// Two interleaving half circles.
    Moons,
    /// A straight segment: a 1-D shape in the plane.
    Line,
    /// A 2-D swiss roll: a spiral whose arms get close.
    SwissRoll,
    /// The visitor's own points, each drawn around with a little noise.
    Drawn(Vec<[f32; 2]>),
}

impl PointCloud {
    /// Refuses a drawing with too few or too many points, or one outside
    /// the drawing area.
    pub fn check(&self) -> Result<()> {
        if let PointCloud::Drawn(points) = self {
            if points.len() < MIN_DRAWN_POINTS {
                return Err(Error::invalid(
                    "points",
                    format!(
                        "a drawn dataset needs at least {MIN_DRAWN_POINTS} points to have a shape to learn; it has {}. \
                         Click or drag on the drawing area to add more",
                        points.len()
                    ),
                ));
            }
            if points.len() > MAX_DRAWN_POINTS {
                return Err(Error::invalid(
                    "points",
                    format!(
                        "a drawn dataset holds at most {MAX_DRAWN_POINTS} points, got {}",
                        points.len()
                    ),
                ));
            }
            if points.iter().flatten().any(|v| !v.is_finite() || v.abs() > EXTENT) {
                return Err(Error::invalid(
                    "points",
                    format!("drawn points must lie in [-{EXTENT}, {EXTENT}] on both axes"),
                ));
            }
        }
        Ok(())
    }

    /// `count` points, flat `[x0, y0, x1, y1, ..]`, from `rng`.
    pub fn sample(&self, count: usize, rng: &mut Rng) -> Vec<f32> {
        let mut out = Vec::with_capacity(2 * count);
        for _ in 0..count {
            let [x, y] = match self {
                PointCloud::Ring => {
                    let angle = 2.0 * PI * rng.below(8) as f32 / 8.0;
                    [
                        2.0 * libm::cosf(angle) + RING_STD * rng.normal(),
                        2.0 * libm::sinf(angle) + RING_STD * rng.normal(),
                    ]
                }
                PointCloud::Grid => {
                    let [x, y] = GRID_MODES[rng.below(25)];
                    [x + GRID_STD * rng.normal(), y + GRID_STD * rng.normal()]
                }
                PointCloud::Line => {
                    let u = 4.0 * rng.uniform() - 2.0;
                    [u + 0.03 * rng.normal(), 0.5 * u + 0.03 * rng.normal()]
                }
                PointCloud::Moons => {
                    let angle = PI * rng.uniform();
                    let (x, y) = if rng.below(2) == 0 {
                        (libm::cosf(angle), libm::sinf(angle))
                    } else {
                        (1.0 - libm::cosf(angle), 0.5 - libm::sinf(angle))
                    };
                    // Centred, 1.6 times scikit-learn's size.
                    [
                        1.6 * (x - 0.5) + 0.05 * rng.normal(),
                        1.6 * (y - 0.25) + 0.05 * rng.normal(),
                    ]
                }
                PointCloud::SwissRoll => {
                    // scikit-learn's make_swiss_roll, seen from above, / 7.
                    let t = 1.5 * PI * (1.0 + 2.0 * rng.uniform());
                    [
                        (t * libm::cosf(t)) / 7.0 + 0.04 * rng.normal(),
                        (t * libm::sinf(t)) / 7.0 + 0.04 * rng.normal(),
                    ]
                }
                PointCloud::Drawn(points) => {
                    if points.is_empty() {
                        [0.0, 0.0]
                    } else {
                        let [x, y] = points[rng.below(points.len())];
                        [x + DRAWN_SPREAD * rng.normal(), y + DRAWN_SPREAD * rng.normal()]
                    }
                }
            };
            out.push(x);
            out.push(y);
        }
        out
    }
}

/// Spread (standard deviation) of each of the ring's Gaussians.
const RING_STD: f32 = 0.1;
/// Spread of each of the grid's Gaussians.
const GRID_STD: f32 = 0.05;

/// The grid's modes: (-2, -1, 0, 1, 2) squared.
const GRID_MODES: [[f32; 2]; 25] = {
    let mut modes = [[0.0; 2]; 25];
    let mut k = 0;
    while k < 25 {
        modes[k] = [(k % 5) as f32 - 2.0, (k / 5) as f32 - 2.0];
        k += 1;
    }
    modes
};

/// Separate Gaussian modes: their centres and their spread.
#[derive(Clone, Debug, PartialEq)]
pub struct Modes {
    pub centres: Vec<[f32; 2]>,
    pub spread: f32,
}

impl PointCloud {
    /// The modes of a mixture of Gaussians (the ring and the grid), for
    /// counting which ones a generator covers; None for the other shapes.
    pub fn modes(&self) -> Option<Modes> {
        match self {
            PointCloud::Ring => Some(Modes {
                centres: ring_modes().to_vec(),
                spread: RING_STD,
            }),
            PointCloud::Grid => Some(Modes {
                centres: GRID_MODES.to_vec(),
                spread: GRID_STD,
            }),
            _ => None,
        }
    }
}

/// `count` points from the Gaussian with the mean and covariance of `data`
/// (flat `[x0, y0, ..]`): what a model that learns only the first two
/// moments would make, the baseline a generator has to beat.
pub fn fitted_gaussian(data: &[f32], count: usize, rng: &mut Rng) -> Vec<f32> {
    let n = (data.len() / 2).max(1) as f32;
    let (mut mx, mut my) = (0.0, 0.0);
    for p in data.chunks_exact(2) {
        mx += p[0] / n;
        my += p[1] / n;
    }
    let (mut sxx, mut sxy, mut syy) = (0.0f32, 0.0f32, 0.0f32);
    for p in data.chunks_exact(2) {
        let (dx, dy) = (p[0] - mx, p[1] - my);
        sxx += dx * dx / n;
        sxy += dx * dy / n;
        syy += dy * dy / n;
    }
    // Cholesky factor of [[sxx, sxy], [sxy, syy]].
    let l11 = libm::sqrtf(sxx.max(0.0));
    let l21 = if l11 > 0.0 { sxy / l11 } else { 0.0 };
    let l22 = libm::sqrtf((syy - l21 * l21).max(0.0));
    let mut out = Vec::with_capacity(2 * count);
    for _ in 0..count {
        let (a, b) = (rng.normal(), rng.normal());
        out.push(mx + l11 * a);
        out.push(my + l21 * a + l22 * b);
    }
    out
}

/// The centres of the ring's modes, for counting which the samples cover.
pub fn ring_modes() -> [[f32; 2]; 8] {
    core::array::from_fn(|k| {
        let angle = 2.0 * PI * k as f32 / 8.0;
        [2.0 * libm::cosf(angle), 2.0 * libm::sinf(angle)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    #[test]
    fn every_shape_is_seeded_and_fits_the_plot() {
        for cloud in [
            PointCloud::Ring,
            PointCloud::Grid,
            PointCloud::Line,
            PointCloud::Moons,
            PointCloud::SwissRoll,
            PointCloud::Drawn(vec![[1.0, 1.0]; 30]),
        ] {
            let a = cloud.sample(500, &mut Rng::new(1));
            assert_eq!(a, cloud.sample(500, &mut Rng::new(1)));
            assert_ne!(a, cloud.sample(500, &mut Rng::new(2)));
            assert_eq!(a.len(), 1000);
            assert!(a.iter().all(|v| v.abs() < EXTENT), "{cloud:?}");
            // Spread out enough to be a shape, not a dot (except the drawing).
            let mean = a.iter().step_by(2).sum::<f32>() / 500.0;
            let var = a.iter().step_by(2).map(|x| (x - mean) * (x - mean)).sum::<f32>() / 500.0;
            let drawn = matches!(cloud, PointCloud::Drawn(_));
            assert!(drawn || var > 0.3, "{cloud:?}: {var}");
        }
        // Every ring mode gets points.
        let ring = PointCloud::Ring.sample(800, &mut Rng::new(3));
        for m in ring_modes() {
            let near = ring
                .chunks(2)
                .filter(|p| (p[0] - m[0]).hypot(p[1] - m[1]) < 0.4)
                .count();
            assert!(near > 60, "{m:?}: {near}");
        }
    }

    #[test]
    fn the_grid_fills_all_25_modes_and_only_the_mixtures_have_modes() {
        let modes = PointCloud::Grid.modes().unwrap();
        assert_eq!(modes.centres.len(), 25);
        let grid = PointCloud::Grid.sample(2500, &mut Rng::new(4));
        for m in &modes.centres {
            let near = grid
                .chunks(2)
                .filter(|p| (p[0] - m[0]).hypot(p[1] - m[1]) < 3.0 * modes.spread)
                .count();
            assert!(near > 50, "{m:?}: {near}");
        }
        assert_eq!(PointCloud::Ring.modes().unwrap().centres.len(), 8);
        assert!(PointCloud::Moons.modes().is_none() && PointCloud::Line.modes().is_none());
    }

    #[test]
    fn the_fitted_gaussian_has_the_data_s_moments() {
        let line = PointCloud::Line.sample(4000, &mut Rng::new(5));
        let fit = fitted_gaussian(&line, 4000, &mut Rng::new(6));
        let moments = |p: &[f32]| {
            let n = (p.len() / 2) as f32;
            let mx = p.iter().step_by(2).sum::<f32>() / n;
            let my = p.iter().skip(1).step_by(2).sum::<f32>() / n;
            let cov = p.chunks(2).map(|q| (q[0] - mx) * (q[1] - my)).sum::<f32>() / n;
            [mx, my, cov]
        };
        let (a, b) = (moments(&line), moments(&fit));
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 0.05, "{a:?} vs {b:?}");
        }
        assert!(a[2] > 0.5, "the line is diagonal: {a:?}");
    }

    #[test]
    fn drawings_are_checked() {
        assert!(PointCloud::Ring.check().is_ok());
        let few = PointCloud::Drawn(vec![[0.0, 0.0]; 5]).check().unwrap_err().to_string();
        assert!(few.contains("at least 20 points") && few.contains("it has 5"), "{few}");
        let many = PointCloud::Drawn(vec![[0.0, 0.0]; 401])
            .check()
            .unwrap_err()
            .to_string();
        assert!(many.contains("at most 400"), "{many}");
        let outside = PointCloud::Drawn(vec![[0.0, 9.0]; 25]).check().unwrap_err().to_string();
        assert!(outside.contains("[-3, 3]"), "{outside}");
        let nan = PointCloud::Drawn(vec![[f32::NAN, 0.0]; 25]).check();
        assert!(nan.is_err());
    }
}
