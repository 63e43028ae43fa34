//! The valid range of every setting a visitor can choose, in one place. The
//! core's own validation ([`crate::models::cnn_trainer::CnnHyper::validate`],
//! [`crate::models::cnn::CnnConfig::layer_shapes`], [`crate::models::mlp::Mlp::new`])
//! uses these, and so does the page's, so that a value the page accepts is
//! one the core accepts and the two explain a refusal the same way.

use crate::error::{Error, Result};
use alloc::format;
use core::fmt;

/// A closed, half-open or open interval of allowed values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range<T> {
    pub min: T,
    pub max: T,
    /// Whether `min` itself is allowed.
    pub min_included: bool,
    /// Whether `max` itself is allowed.
    pub max_included: bool,
}

impl<T: Copy + PartialOrd> Range<T> {
    /// `min..=max`.
    pub const fn closed(min: T, max: T) -> Self {
        Range {
            min,
            max,
            min_included: true,
            max_included: true,
        }
    }

    /// `(min, max]`: anything above `min`, up to and including `max`.
    pub const fn above(min: T, max: T) -> Self {
        Range {
            min,
            max,
            min_included: false,
            max_included: true,
        }
    }

    /// `[min, max)`: from `min` included, up to `max` excluded.
    pub const fn below(min: T, max: T) -> Self {
        Range {
            min,
            max,
            min_included: true,
            max_included: false,
        }
    }

    /// Whether `value` is allowed (never for NaN).
    pub fn contains(&self, value: T) -> bool {
        let low = if self.min_included {
            value >= self.min
        } else {
            value > self.min
        };
        let high = if self.max_included {
            value <= self.max
        } else {
            value < self.max
        };
        low && high
    }
}

impl<T: Copy + PartialOrd + fmt::Display> Range<T> {
    /// `value`, or an error of `op` saying "{what} must be {self}, got {value}".
    pub fn check(&self, op: &'static str, what: &str, value: T) -> Result<T> {
        if self.contains(value) {
            Ok(value)
        } else {
            Err(Error::invalid(op, format!("{what} must be {self}, got {value}")))
        }
    }
}

/// "from 1 to 512", "greater than 0 and at most 10", ...
impl<T: fmt::Display> fmt::Display for Range<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (min, max) = (&self.min, &self.max);
        match (self.min_included, self.max_included) {
            (true, true) => write!(f, "from {min} to {max}"),
            (false, true) => write!(f, "greater than {min} and at most {max}"),
            (true, false) => write!(f, "at least {min} and less than {max}"),
            (false, false) => write!(f, "greater than {min} and less than {max}"),
        }
    }
}

/// Learning rate, (0, 10]: zero or less does not descend, and no network in
/// the labs survives a step larger than 10 (the loss becomes NaN at once).
pub const LEARNING_RATE: Range<f32> = Range::above(0.0, 10.0);

/// SGD momentum, [0, 1): at 1 or more the velocity never decays and training
/// diverges.
pub const MOMENTUM: Range<f32> = Range::below(0.0, 1.0);

/// Minibatch size, 1 to 512: 512 MNIST digits already take a second per
/// step in the browser, and a larger batch leaves too few steps per epoch of
/// the 8,000 training digits to watch learning happen. (A batch must also fit
/// in the training set; the trainers check that against their data.)
pub const BATCH_SIZE: Range<usize> = Range::closed(1, 512);

/// Filters of the first convolution, 1 to 32: the feature-map view draws one
/// tile per filter, and the first layer runs at full resolution, so it costs
/// the most per filter.
pub const CONV1_FILTERS: Range<usize> = Range::closed(1, 32);

/// Filters of the second (and any later) convolution, 1 to 64: after a pool
/// each filter is cheaper, and deeper layers conventionally have more.
pub const CONV2_FILTERS: Range<usize> = Range::closed(1, 64);

/// The filter range of conv stage `stage` (0-based): [`CONV1_FILTERS`] for
/// the first, [`CONV2_FILTERS`] for every later one.
pub const fn conv_filters(stage: usize) -> Range<usize> {
    if stage == 0 {
        CONV1_FILTERS
    } else {
        CONV2_FILTERS
    }
}

/// Square convolution kernel size, 1 to 9: a 9x9 kernel already sees a
/// third of a 28x28 digit; larger ones stop being local features.
pub const KERNEL_SIZE: Range<usize> = Range::closed(1, 9);

/// Convolution stride, 1 to 4: a larger stride skips most of a 28x28 input.
pub const STRIDE: Range<usize> = Range::closed(1, 4);

/// Zero padding, 0 to 4: enough for a 9x9 kernel to keep the input size
/// ("same" padding is (kernel - 1) / 2); more only adds zeros.
pub const PADDING: Range<usize> = Range::closed(0, 4);

/// Pooling window (and stride), 1 to 4; 1 means no pooling. Two 4x4 pools
/// already take 28x28 down to 1x1.
pub const POOL_SIZE: Range<usize> = Range::closed(1, 4);

/// Units in each hidden layer of the playground's MLP, 1 to 64: the
/// decision boundary of a 2-D dataset needs few, and the network diagram
/// draws every unit.
pub const HIDDEN_WIDTH: Range<usize> = Range::closed(1, 64);

/// Number of hidden layers of the playground's MLP, 1 to 4: enough to see
/// depth help (the spiral) without the diagram outgrowing the page.
pub const HIDDEN_LAYERS: Range<usize> = Range::closed(1, 4);

/// Standard deviation of the Gaussian noise added to the 2-D datasets, 0 to
/// 1: the points lie in [-1, 1]^2, so noise 1 already hides the pattern.
pub const NOISE: Range<f32> = Range::closed(0.0, 1.0);

/// Hidden units of the Sequences lab's recurrent networks, 4 to 128: fewer
/// cannot hold a symbol and a count; at 128 a GRU step over 200 time steps
/// already takes a good fraction of a second in the browser.
pub const RNN_HIDDEN: Range<usize> = Range::closed(4, 128);

/// Length of the Sequences lab's sequences, 2 to 200: two steps is the
/// shortest with a first and a last; at 200 a tanh RNN's gradient has
/// vanished many times over, and a step of three models is slow.
pub const SEQ_LENGTH: Range<usize> = Range::closed(2, 200);

/// Gradient clipping threshold (the global norm), 0 to 1000; 0 turns
/// clipping off. Above 1000 it never acts on these networks.
pub const CLIP_NORM: Range<f32> = Range::closed(0.0, 1000.0);

/// The Attention lab's model width d, 8 to 128: 8 holds one 8-wide head;
/// at 128 a step of three layers already takes a large part of a second.
pub const D_MODEL: Range<usize> = Range::closed(8, 128);

/// Attention heads per layer, 1 to 8 (each gets d / heads features).
pub const HEADS: Range<usize> = Range::closed(1, 8);

/// Transformer layers, 1 to 3: the lab's tasks need two at most.
pub const LAYERS: Range<usize> = Range::closed(1, 3);

/// Digits in a reverse or sort string, 2 to 16: the attention maps stay
/// legible on a phone up to 16 tokens.
pub const DIGIT_LENGTH: Range<usize> = Range::closed(2, 16);

/// Timesteps of the Diffusion lab's schedule, 10 to 1000: fewer cannot take
/// data to noise in small steps; 1000 is DDPM's own, and sampling then takes
/// 1000 network calls per picture.
pub const DIFFUSION_STEPS: Range<usize> = Range::closed(10, 1000);

/// Steps of a DDIM sampler, 2 to 1000 (and at most the schedule's steps).
pub const DDIM_STEPS: Range<usize> = Range::closed(2, 1000);

/// DDIM's eta, 0 to 1: 0 samples deterministically, 1 adds DDPM's noise.
pub const DDIM_ETA: Range<f32> = Range::closed(0.0, 1.0);

/// Units per hidden layer of the diffusion denoiser, 8 to 256: a 2-D
/// distribution needs more than a classifier's boundary, and at 256 a step
/// already takes tens of milliseconds in the browser.
pub const DENOISER_WIDTH: Range<usize> = Range::closed(8, 256);

/// Hidden layers of the diffusion denoiser, 1 to 4.
pub const DENOISER_LAYERS: Range<usize> = Range::closed(1, 4);

/// Noise dimensions of the GAN's generator, 1 to 8: a 2-D distribution
/// needs no more, and the manifold picture shows 1 or 2 of them.
pub const GAN_NOISE_DIM: Range<usize> = Range::closed(1, 8);

/// Units per hidden layer of the GAN's networks, 4 to 256.
pub const GAN_WIDTH: Range<usize> = Range::closed(4, 256);

/// Hidden layers of each of the GAN's networks, 1 to 4.
pub const GAN_LAYERS: Range<usize> = Range::closed(1, 4);

/// Discriminator steps per generator step, 1 to 10.
pub const GAN_D_STEPS: Range<usize> = Range::closed(1, 10);

/// Weight of WGAN-GP's gradient penalty, 0 to 100 (the paper's is 10).
pub const GRADIENT_PENALTY: Range<f32> = Range::closed(0.0, 100.0);

/// Filters of the detector's first convolution (the next ones double it).
pub const DETECTOR_WIDTH: Range<usize> = Range::closed(2, 16);

/// The detector's confidence and NMS IoU thresholds.
pub const THRESHOLD: Range<f32> = Range::closed(0.0, 1.0);

/// The weight of the box error in the detector's loss (YOLO's lambda_coord is 5).
pub const BOX_WEIGHT: Range<f32> = Range::closed(0.0, 100.0);

/// Training scenes per batch in the Detection lab (each is a 64x64 colour
/// picture: a batch of 64 is already a second's work in a browser).
pub const DETECTION_BATCH: Range<usize> = Range::closed(1, 64);

/// Seed, 0 to 2^53 - 1: the largest whole number a JavaScript number (and so
/// a URL that passes through one) holds exactly. The core's [`crate::Rng`]
/// takes any u64; the page keeps seeds it can round-trip.
pub const SEED: Range<u64> = Range::closed(0, (1 << 53) - 1);

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn ranges_include_their_ends_as_documented() {
        assert!(!LEARNING_RATE.contains(0.0) && LEARNING_RATE.contains(1e-6) && LEARNING_RATE.contains(10.0));
        assert!(!LEARNING_RATE.contains(10.5) && !LEARNING_RATE.contains(f32::NAN));
        assert!(MOMENTUM.contains(0.0) && MOMENTUM.contains(0.99) && !MOMENTUM.contains(1.0));
        assert!(BATCH_SIZE.contains(1) && BATCH_SIZE.contains(512) && !BATCH_SIZE.contains(513));
        assert!(!BATCH_SIZE.contains(0));
        assert_eq!(
            (conv_filters(0), conv_filters(1), conv_filters(5)),
            (CONV1_FILTERS, CONV2_FILTERS, CONV2_FILTERS)
        );
        assert!(PADDING.contains(0) && !STRIDE.contains(0));
        assert_eq!(SEED.max, 9_007_199_254_740_991);
    }

    #[test]
    fn refusals_say_the_range() {
        assert_eq!(LEARNING_RATE.to_string(), "greater than 0 and at most 10");
        assert_eq!(MOMENTUM.to_string(), "at least 0 and less than 1");
        let msg = BATCH_SIZE
            .check("hyperparameters", "batch size", 1000)
            .unwrap_err()
            .to_string();
        assert_eq!(msg, "hyperparameters: batch size must be from 1 to 512, got 1000");
        assert_eq!(KERNEL_SIZE.check("cnn", "kernel size", 9), Ok(9));
    }
}
