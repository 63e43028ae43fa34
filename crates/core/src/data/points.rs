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
    /// Two interleaving half circles.
    Moons,
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
                        2.0 * libm::cosf(angle) + 0.1 * rng.normal(),
                        2.0 * libm::sinf(angle) + 0.1 * rng.normal(),
                    ]
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
