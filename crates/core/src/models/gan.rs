//! The GAN lab's two networks: a generator that maps noise z to 2-D points
//! and a discriminator that scores points as real or fake. They are trained
//! in turns (Goodfellow et al., 2014): the discriminator on real data and
//! on the generator's fakes, then the generator through the discriminator,
//! to make fakes it scores as real.
//!
//! Four losses, written with the discriminator's raw output d (a logit for
//! the first two):
//!
//! | loss | discriminator minimises | generator minimises |
//! |---|---|---|
//! | non-saturating | softplus(-d_real) + softplus(d_fake) | softplus(-d_fake) |
//! | minimax | the same | -softplus(d_fake), i.e. log(1 - D(G(z))) |
//! | least squares | (d_real - 1)^2 / 2 + d_fake^2 / 2 | (d_fake - 1)^2 / 2 |
//! | Wasserstein-GP | d_fake - d_real + lambda (norm(grad_x d(x_hat)) - 1)^2 | -d_fake |
//!
//! WGAN-GP's penalty is a function of the critic's gradient with respect to
//! its input, and training needs *its* gradient with respect to the weights:
//! a gradient of a gradient. The tape does not differentiate its own
//! backward pass, so [`output_and_input_gradient`] writes the critic's
//! backward pass as ordinary ops on the tape, and `backward` then
//! differentiates through it.

use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::layers::{Activation, Linear, LinearConfig, Module, Param};
use crate::limits;
use crate::optim::Optimizer;
use crate::rng::Rng;
use crate::tensor::Tensor;
use alloc::format;
use alloc::vec::Vec;
use ndarray::IxDyn;

/// Numbers per point.
pub const DIM: usize = 2;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GanLoss {
    NonSaturating,
    Minimax,
    LeastSquares,
    Wasserstein,
}

impl GanLoss {
    /// Whether the discriminator's output is a logit (a probability after
    /// the sigmoid); least squares and Wasserstein give a score instead.
    pub fn is_logit(self) -> bool {
        matches!(self, GanLoss::NonSaturating | GanLoss::Minimax)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NetConfig {
    /// Units per hidden layer.
    pub width: usize,
    /// Hidden layers.
    pub layers: usize,
    pub activation: Activation,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GanConfig {
    /// Dimensions of the generator's Gaussian noise.
    pub noise_dim: usize,
    pub generator: NetConfig,
    pub discriminator: NetConfig,
    pub loss: GanLoss,
    /// WGAN-GP's lambda (used by the Wasserstein loss only).
    pub gradient_penalty: f32,
}

/// An MLP, Linear -> activation -> ... -> Linear, named like a PyTorch
/// `nn.Sequential` under a prefix: `generator.net.0.weight`, ...
#[derive(Clone, Debug)]
pub struct Net {
    pub layers: Vec<Linear>,
    pub activation: Activation,
}

impl Net {
    fn new(prefix: &str, inputs: usize, config: NetConfig, outputs: usize, rng: &mut Rng) -> Result<Self> {
        limits::GAN_WIDTH.check("gan", "a hidden layer's width", config.width)?;
        limits::GAN_LAYERS.check("gan", "the number of hidden layers", config.layers)?;
        let mut sizes = Vec::with_capacity(config.layers + 2);
        sizes.push(inputs);
        sizes.extend(core::iter::repeat_n(config.width, config.layers));
        sizes.push(outputs);
        let layers = sizes
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                let size = LinearConfig {
                    in_features: w[0],
                    out_features: w[1],
                };
                Linear::new(&format!("{prefix}.net.{}", 2 * i), size, rng)
            })
            .collect();
        Ok(Net {
            layers,
            activation: config.activation,
        })
    }

    pub fn forward(&self, g: &mut Graph, x: Var) -> Result<Var> {
        let mut h = x;
        for (i, layer) in self.layers.iter().enumerate() {
            h = layer.forward(g, h)?;
            if i + 1 < self.layers.len() {
                h = self.activation.apply(g, h);
            }
        }
        Ok(h)
    }

    fn set_frozen(&mut self, frozen: bool) {
        for p in self.params_mut() {
            p.frozen = frozen;
        }
    }
}

impl Module for Net {
    fn params(&self) -> Vec<&Param> {
        self.layers.iter().flat_map(|l| l.params()).collect()
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        self.layers.iter_mut().flat_map(|l| l.params_mut()).collect()
    }
}

/// An MLP's output for `x` [N, in] and the gradient of the sum of its
/// outputs with respect to `x` ([N, in]; for a one-output critic, each
/// row's own input gradient), both as nodes of `g`. `layers` holds each
/// Linear layer's (weight [out, in], bias [out]) nodes.
///
/// The backward pass is written out with tape ops, layer by layer from the
/// top: grad_z = grad_h * act'(z), grad_h_below = grad_z W. So the result
/// can itself be differentiated (WGAN-GP). ReLU's second derivative is zero
/// wherever it exists, so its mask enters as a constant; tanh's and the
/// sigmoid's derivatives are written with their outputs.
pub fn output_and_input_gradient(
    g: &mut Graph,
    x: Var,
    layers: &[(Var, Var)],
    activation: Activation,
) -> Result<(Var, Var)> {
    let mut h = x;
    // (pre-activation, activation) of each hidden layer.
    let mut hidden = Vec::with_capacity(layers.len());
    for (i, &(w, b)) in layers.iter().enumerate() {
        let z = g.linear(h, w, Some(b))?;
        if i + 1 < layers.len() {
            h = activation.apply(g, z);
            hidden.push((z, h));
        } else {
            h = z;
        }
    }
    let output = h;
    let ones = Tensor::from_elem(IxDyn(g.shape(output)), 1.0);
    let mut grad = g.constant(ones);
    for (i, &(w, _)) in layers.iter().enumerate().rev() {
        if let Some(&(z, a)) = hidden.get(i) {
            let slope = match activation {
                Activation::Relu => {
                    let mask = g.value(z).mapv(|v| if v > 0.0 { 1.0 } else { 0.0 });
                    g.constant(mask)
                }
                Activation::Tanh => {
                    // 1 - tanh^2
                    let squared = g.square(a);
                    let negated = g.neg(squared);
                    g.add_scalar(negated, 1.0)
                }
                Activation::Sigmoid => {
                    // s (1 - s) = s - s^2
                    let squared = g.square(a);
                    g.sub(a, squared)?
                }
                Activation::Gelu => {
                    return Err(Error::invalid(
                        "gan",
                        "the gradient penalty needs a ReLU, tanh or sigmoid discriminator",
                    ))
                }
            };
            grad = g.mul(grad, slope)?;
        }
        grad = g.matmul(grad, w)?;
    }
    Ok((output, grad))
}

/// The WGAN-GP penalty on a batch's input gradients `grad` [N, 2]:
/// the mean of (norm - 1)^2, as a node of `g`.
fn gradient_penalty(g: &mut Graph, grad: Var) -> Result<Var> {
    let squared = g.square(grad);
    let summed = g.sum_axis(squared, 1, false)?;
    // The epsilon keeps sqrt's derivative finite at a zero gradient.
    let summed = g.add_scalar(summed, 1e-12);
    let norm = g.sqrt(summed);
    let gap = g.add_scalar(norm, -1.0);
    let gap = g.square(gap);
    Ok(g.mean(gap))
}

/// The generator's loss for each fake from the discriminator's output on it
/// (summed by the caller: mean for training, sum for per-point gradients).
fn generator_objective(g: &mut Graph, d_fake: Var, loss: GanLoss) -> Var {
    match loss {
        GanLoss::NonSaturating => {
            let flipped = g.neg(d_fake);
            g.softplus(flipped)
        }
        GanLoss::Minimax => {
            let s = g.softplus(d_fake);
            g.neg(s)
        }
        GanLoss::LeastSquares => {
            let gap = g.add_scalar(d_fake, -1.0);
            let squared = g.square(gap);
            g.scale(squared, 0.5)
        }
        GanLoss::Wasserstein => g.neg(d_fake),
    }
}

/// What one discriminator step measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DiscriminatorStats {
    /// The discriminator's loss (the penalty included).
    pub loss: f32,
    /// Its mean output on the real batch and on the fakes: probabilities
    /// for the logit losses, raw scores for the others.
    pub real_score: f32,
    pub fake_score: f32,
    /// WGAN-GP's penalty term (lambda times the mean), 0 for other losses.
    pub penalty: f32,
}

#[derive(Clone, Debug)]
pub struct Gan {
    pub generator: Net,
    pub discriminator: Net,
    pub config: GanConfig,
    workspace: super::Workspace,
}

impl Gan {
    pub fn new(config: GanConfig, rng: &mut Rng) -> Result<Self> {
        limits::GAN_NOISE_DIM.check("gan", "the noise dimension", config.noise_dim)?;
        limits::GRADIENT_PENALTY.check("gan", "the gradient penalty's weight", config.gradient_penalty)?;
        if config.loss == GanLoss::Wasserstein && config.discriminator.activation == Activation::Gelu {
            return Err(Error::invalid(
                "gan",
                "the Wasserstein loss's gradient penalty needs a ReLU, tanh or sigmoid discriminator",
            ));
        }
        let generator = Net::new("generator", config.noise_dim, config.generator, DIM, rng)?;
        let discriminator = Net::new("discriminator", DIM, config.discriminator, 1, rng)?;
        Ok(Gan {
            generator,
            discriminator,
            config,
            workspace: Default::default(),
        })
    }

    /// Gaussian noise for `n` fakes, flat [n * noise_dim].
    pub fn noise(&self, n: usize, rng: &mut Rng) -> Vec<f32> {
        (0..n * self.config.noise_dim).map(|_| rng.normal()).collect()
    }

    /// The generator's points (flat [n * 2]) for noise `z` (flat [n * noise_dim]).
    pub fn generate(&self, z: &[f32]) -> Result<Vec<f32>> {
        let n = z.len() / self.config.noise_dim;
        self.workspace.infer(|g| {
            let input = matrix(z, n, self.config.noise_dim)?;
            let input = g.constant(input);
            let out = self.generator.forward(g, input)?;
            Ok(g.value(out).iter().copied().collect())
        })
    }

    /// The discriminator's raw output (a logit, or a score) for each point.
    pub fn discriminate(&self, points: &[f32]) -> Result<Vec<f32>> {
        let n = points.len() / DIM;
        self.workspace.infer(|g| {
            let input = matrix(points, n, DIM)?;
            let input = g.constant(input);
            let out = self.discriminator.forward(g, input)?;
            Ok(g.value(out).iter().copied().collect())
        })
    }

    /// One discriminator update on a batch of real points (flat [n * 2])
    /// and as many fresh fakes; noise (and WGAN-GP's mixing) from `rng`.
    pub fn discriminator_step(
        &mut self,
        real: &[f32],
        rng: &mut Rng,
        opt: &mut Optimizer,
    ) -> Result<DiscriminatorStats> {
        let n = real.len() / DIM;
        let z = self.noise(n, rng);
        let fake = self.generate(&z)?;
        // x_hat: a random point on the segment between each real point and a fake.
        let mixed: Vec<f32> = if self.config.loss == GanLoss::Wasserstein {
            let mut mixed = Vec::with_capacity(real.len());
            for (r, f) in real.chunks_exact(DIM).zip(fake.chunks_exact(DIM)) {
                let e = rng.uniform();
                mixed.extend(r.iter().zip(f).map(|(a, b)| e * a + (1.0 - e) * b));
            }
            mixed
        } else {
            Vec::new()
        };
        let mut g = core::mem::take(&mut self.workspace.train);
        g.reset();
        let stats = self.discriminator_step_on(&mut g, real, &fake, &mixed, opt);
        self.workspace.train = g;
        stats
    }

    fn discriminator_step_on(
        &mut self,
        g: &mut Graph,
        real: &[f32],
        fake: &[f32],
        mixed: &[f32],
        opt: &mut Optimizer,
    ) -> Result<DiscriminatorStats> {
        let n = real.len() / DIM;
        let real_var = g.constant(matrix(real, n, DIM)?);
        let fake_var = g.constant(matrix(fake, n, DIM)?);
        let d_real = self.discriminator.forward(g, real_var)?;
        let d_fake = self.discriminator.forward(g, fake_var)?;
        let loss = self.config.loss;
        let mut penalty = None;
        let objective = match loss {
            GanLoss::NonSaturating | GanLoss::Minimax => {
                let flipped = g.neg(d_real);
                let on_real = g.softplus(flipped);
                let on_fake = g.softplus(d_fake);
                let (a, b) = (g.mean(on_real), g.mean(on_fake));
                g.add(a, b)?
            }
            GanLoss::LeastSquares => {
                let gap = g.add_scalar(d_real, -1.0);
                let on_real = g.square(gap);
                let on_fake = g.square(d_fake);
                let (a, b) = (g.mean(on_real), g.mean(on_fake));
                let sum = g.add(a, b)?;
                g.scale(sum, 0.5)
            }
            GanLoss::Wasserstein => {
                let (a, b) = (g.mean(d_fake), g.mean(d_real));
                let gap = g.sub(a, b)?;
                let mixed = g.constant(matrix(mixed, n, DIM)?);
                let weights: Vec<(Var, Var)> = self
                    .discriminator
                    .layers
                    .iter()
                    .map(|l| (l.weight.var(g), l.bias.var(g)))
                    .collect();
                let (_, grad) = output_and_input_gradient(g, mixed, &weights, self.discriminator.activation)?;
                let p = gradient_penalty(g, grad)?;
                let p = g.scale(p, self.config.gradient_penalty);
                penalty = Some(p);
                g.add(gap, p)?
            }
        };
        g.backward(objective)?;
        self.discriminator.collect_grads(g);
        opt.step(&mut self.discriminator.params_mut());
        let mean_score = |g: &Graph, v: Var| {
            let values = g.value(v);
            let sum: f32 = if loss.is_logit() {
                values.iter().map(|&d| crate::ops::sigmoid(d)).sum()
            } else {
                values.iter().sum()
            };
            sum / values.len().max(1) as f32
        };
        Ok(DiscriminatorStats {
            loss: scalar(g, objective),
            real_score: mean_score(g, d_real),
            fake_score: mean_score(g, d_fake),
            penalty: penalty.map_or(0.0, |p| scalar(g, p)),
        })
    }

    /// One generator update on `n` fresh fakes, through the discriminator
    /// (whose weights stay as they are). Returns the generator's loss.
    pub fn generator_step(&mut self, n: usize, rng: &mut Rng, opt: &mut Optimizer) -> Result<f32> {
        let z = self.noise(n, rng);
        let mut g = core::mem::take(&mut self.workspace.train);
        g.reset();
        // Frozen, the discriminator's weights enter the tape as constants:
        // no gradient is computed for them, and none could be applied.
        self.discriminator.set_frozen(true);
        let loss = self.generator_step_on(&mut g, &z, opt);
        self.discriminator.set_frozen(false);
        self.workspace.train = g;
        loss
    }

    fn generator_step_on(&mut self, g: &mut Graph, z: &[f32], opt: &mut Optimizer) -> Result<f32> {
        let n = z.len() / self.config.noise_dim;
        let z = g.constant(matrix(z, n, self.config.noise_dim)?);
        let fake = self.generator.forward(g, z)?;
        let d_fake = self.discriminator.forward(g, fake)?;
        let per_fake = generator_objective(g, d_fake, self.config.loss);
        let loss = g.mean(per_fake);
        g.backward(loss)?;
        self.generator.collect_grads(g);
        opt.step(&mut self.generator.params_mut());
        Ok(scalar(g, loss))
    }

    /// Where the discriminator pushes each of `points` (flat [n * 2]): minus
    /// the gradient of the generator's loss at that point, the direction a
    /// generator step moves a fake that lies there (before the generator's
    /// own weights shape it).
    pub fn generator_push(&self, points: &[f32]) -> Result<Vec<f32>> {
        let n = points.len() / DIM;
        let mut g = Graph::new();
        let x = g.variable(matrix(points, n, DIM)?);
        let d = self.discriminator.forward(&mut g, x)?;
        let per_point = generator_objective(&mut g, d, self.config.loss);
        let total = g.sum(per_point);
        g.backward(total)?;
        let grad = g
            .grad(x)
            .ok_or_else(|| Error::invalid("gan", "the points got no gradient"))?;
        Ok(grad.iter().map(|v| -v).collect())
    }

    pub fn is_finite(&self) -> bool {
        self.params().iter().all(|p| p.value.iter().all(|v| v.is_finite()))
    }
}

impl Module for Gan {
    fn params(&self) -> Vec<&Param> {
        let mut p = self.generator.params();
        p.extend(self.discriminator.params());
        p
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        let mut p = self.generator.params_mut();
        p.extend(self.discriminator.params_mut());
        p
    }
}

fn matrix(values: &[f32], rows: usize, cols: usize) -> Result<Tensor> {
    Tensor::from_shape_vec(IxDyn(&[rows, cols]), values.to_vec()).map_err(|_| {
        Error::invalid(
            "gan",
            format!("expected {rows} rows of {cols} numbers, got {} numbers", values.len()),
        )
    })
}

fn scalar(g: &Graph, v: Var) -> f32 {
    g.value(v).iter().next().copied().unwrap_or(f32::NAN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::points::PointCloud;
    use crate::metrics::{mode_coverage, sliced_wasserstein_2d};

    fn config(loss: GanLoss) -> GanConfig {
        let net = NetConfig {
            width: 64,
            layers: 2,
            activation: Activation::Relu,
        };
        GanConfig {
            noise_dim: 2,
            generator: net,
            discriminator: net,
            loss,
            gradient_penalty: 10.0,
        }
    }

    #[test]
    fn names_and_shapes_are_those_of_two_pytorch_sequentials() {
        let gan = Gan::new(config(GanLoss::NonSaturating), &mut Rng::new(0)).unwrap();
        let names: Vec<_> = gan.params().iter().map(|p| p.name.clone()).collect();
        assert_eq!(names[0], "generator.net.0.weight");
        assert_eq!(names[5], "generator.net.4.bias");
        assert_eq!(names[6], "discriminator.net.0.weight");
        assert_eq!(gan.generator.layers[0].weight.value.shape(), &[64, 2]);
        assert_eq!(gan.discriminator.layers[2].weight.value.shape(), &[1, 64]);
        for (c, needle) in [
            (
                GanConfig {
                    noise_dim: 9,
                    ..config(GanLoss::NonSaturating)
                },
                "noise dimension must be from 1 to 8",
            ),
            (
                GanConfig {
                    gradient_penalty: -1.0,
                    ..config(GanLoss::Wasserstein)
                },
                "penalty's weight must be from 0 to 100",
            ),
        ] {
            let message = alloc::string::ToString::to_string(&Gan::new(c, &mut Rng::new(0)).unwrap_err());
            assert!(message.contains(needle), "{message}");
        }
    }

    /// The input gradient written with tape ops equals the one backward
    /// computes, for every activation the penalty supports.
    #[test]
    fn the_input_gradient_on_the_tape_matches_backward() {
        for activation in [Activation::Relu, Activation::Tanh, Activation::Sigmoid] {
            let net = NetConfig {
                width: 8,
                layers: 2,
                activation,
            };
            let gan = Gan::new(
                GanConfig {
                    discriminator: net,
                    ..config(GanLoss::Wasserstein)
                },
                &mut Rng::new(3),
            )
            .unwrap();
            let points = PointCloud::Moons.sample(5, &mut Rng::new(4));
            let mut g = Graph::new();
            let x = g.variable(matrix(&points, 5, 2).unwrap());
            let out = gan.discriminator.forward(&mut g, x).unwrap();
            let total = g.sum(out);
            g.backward(total).unwrap();
            let expected = g.grad(x).unwrap().clone();
            let mut g = Graph::new();
            let x = g.constant(matrix(&points, 5, 2).unwrap());
            let weights: Vec<_> = gan
                .discriminator
                .layers
                .iter()
                .map(|l| (l.weight.var(&mut g), l.bias.var(&mut g)))
                .collect();
            let (_, grad) = output_and_input_gradient(&mut g, x, &weights, activation).unwrap();
            for (a, b) in g.value(grad).iter().zip(expected.iter()) {
                assert!((a - b).abs() < 1e-5, "{activation:?}: {a} vs {b}");
            }
        }
    }

    /// `step-d` changes only the discriminator, `step-g` only the generator.
    #[test]
    fn each_step_changes_only_its_own_network() {
        for loss in [
            GanLoss::NonSaturating,
            GanLoss::Minimax,
            GanLoss::LeastSquares,
            GanLoss::Wasserstein,
        ] {
            let mut rng = Rng::new(5);
            let mut gan = Gan::new(config(loss), &mut rng).unwrap();
            let (mut d_opt, mut g_opt) = (Optimizer::adam(1e-3), Optimizer::adam(1e-3));
            let snapshot = |gan: &Gan| -> (Vec<Tensor>, Vec<Tensor>) {
                (
                    gan.generator.params().iter().map(|p| p.value.clone()).collect(),
                    gan.discriminator.params().iter().map(|p| p.value.clone()).collect(),
                )
            };
            let before = snapshot(&gan);
            let real = PointCloud::Ring.sample(64, &mut rng);
            let stats = gan.discriminator_step(&real, &mut rng, &mut d_opt).unwrap();
            assert!(stats.loss.is_finite() && (loss == GanLoss::Wasserstein) == (stats.penalty > 0.0));
            let after_d = snapshot(&gan);
            assert_eq!(before.0, after_d.0, "{loss:?}: the generator moved on a D step");
            // (The critic's last bias cancels out of d_fake - d_real: the
            // Wasserstein step leaves it alone.)
            let moved = before.1.iter().zip(&after_d.1).filter(|(a, b)| a != b).count();
            assert!(moved >= after_d.1.len() - 1, "{loss:?}: {moved} moved");
            gan.generator_step(64, &mut rng, &mut g_opt).unwrap();
            let after_g = snapshot(&gan);
            assert_eq!(after_d.1, after_g.1, "{loss:?}: the discriminator moved on a G step");
            assert!(after_d.0.iter().zip(&after_g.0).all(|(a, b)| a != b), "{loss:?}");
        }
    }

    /// The discriminator pushes fakes towards where it scores higher.
    #[test]
    fn the_push_points_uphill_on_the_discriminator() {
        let mut rng = Rng::new(6);
        let gan = Gan::new(config(GanLoss::NonSaturating), &mut rng).unwrap();
        let points = PointCloud::Ring.sample(16, &mut rng);
        let push = gan.generator_push(&points).unwrap();
        let before = gan.discriminate(&points).unwrap();
        let moved: Vec<f32> = points.iter().zip(&push).map(|(p, d)| p + 1e-3 * d).collect();
        let after = gan.discriminate(&moved).unwrap();
        for (a, b) in before.iter().zip(&after) {
            assert!(b >= a, "{a} -> {b}");
        }
    }

    /// A seeded run learns the ring: closer to the data, more modes.
    #[test]
    fn a_short_run_covers_more_of_the_ring() {
        let mut rng = Rng::new(7);
        let mut gan = Gan::new(config(GanLoss::NonSaturating), &mut rng).unwrap();
        let adam = |lr| {
            let mut o = crate::optim::Adam::new(lr);
            o.beta1 = 0.5;
            Optimizer::Adam(o)
        };
        let (mut d_opt, mut g_opt) = (adam(1e-3), adam(1e-3));
        let cloud = PointCloud::Ring;
        let modes = cloud.modes().unwrap();
        let held_out = cloud.sample(1000, &mut Rng::new(99));
        let mut eval_rng = Rng::new(100);
        let mut measure = |gan: &Gan| {
            let z = gan.noise(1000, &mut eval_rng);
            let samples = gan.generate(&z).unwrap();
            let covered = mode_coverage(&samples, &modes.centres, 3.0 * modes.spread, 0.25).covered;
            (sliced_wasserstein_2d(&samples, &held_out, 32), covered)
        };
        let (start_distance, start_modes) = measure(&gan);
        for _ in 0..3000 {
            let real = cloud.sample(128, &mut rng);
            gan.discriminator_step(&real, &mut rng, &mut d_opt).unwrap();
            gan.generator_step(128, &mut rng, &mut g_opt).unwrap();
        }
        let (distance, covered) = measure(&gan);
        assert!(distance < 0.5 * start_distance, "{start_distance} -> {distance}");
        assert!(covered > start_modes && covered >= 6, "{start_modes} -> {covered}");
    }
}
