//! Layer normalisation over the last axis (`F.layer_norm`, biased variance):
//! y = (x - mean) / sqrt(var + eps) * gamma + beta.

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;

impl Graph {
    pub fn layer_norm(&mut self, x: Var, gamma: Var, beta: Var, eps: f32) -> Result<Var> {
        let shape = self.shape(x).to_vec();
        let Some(&e) = shape.last().filter(|&&e| e > 0) else {
            return Err(Error::shape("layer_norm", "x needs a non-empty last axis", &shape, &[]));
        };
        for (name, p) in [("gamma", gamma), ("beta", beta)] {
            if self.shape(p) != [e] {
                return Err(Error::shape(
                    "layer_norm",
                    alloc::format!("{name} must be [features] of x"),
                    self.shape(p),
                    &shape,
                ));
            }
        }
        let xc = contiguous(self.value(x));
        let xs = xc.as_slice().expect("standard layout");
        let (g, b) = (contiguous(self.value(gamma)), contiguous(self.value(beta)));
        let (g, b) = (g.as_slice().expect("1-D"), b.as_slice().expect("1-D"));
        let rows = xs.len() / e;
        // Normalised inputs and 1/std per row, kept for the backward pass.
        let mut x_hat = vec![0.0f32; xs.len()];
        let mut inv_std = Vec::with_capacity(rows);
        let mut out = vec![0.0f32; xs.len()];
        for r in 0..rows {
            let row = &xs[r * e..(r + 1) * e];
            let mean = row.iter().sum::<f32>() / e as f32;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / e as f32;
            let istd = 1.0 / libm::sqrtf(var + eps);
            inv_std.push(istd);
            for j in 0..e {
                let h = (row[j] - mean) * istd;
                x_hat[r * e + j] = h;
                out[r * e + j] = h * g[j] + b[j];
            }
        }
        drop(xc);
        let value = Tensor::from_shape_vec(ndarray::IxDyn(&shape), out).expect("sized");
        Ok(self.push_op(
            &[x, gamma, beta],
            value,
            Box::new(move |args| {
                let gc = contiguous(args.grad);
                let dy = gc.as_slice().expect("standard layout");
                let gamma_c = contiguous(args.inputs[1]);
                let gamma = gamma_c.as_slice().expect("1-D");
                let mut dx = vec![0.0f32; dy.len()];
                let mut dgamma = vec![0.0f32; e];
                let mut dbeta = vec![0.0f32; e];
                for r in 0..rows {
                    let (dyr, hr) = (&dy[r * e..(r + 1) * e], &x_hat[r * e..(r + 1) * e]);
                    // dx = istd * (dxh - mean(dxh) - x_hat * mean(dxh * x_hat)), dxh = dy * gamma
                    let mut mean_dxh = 0.0;
                    let mut mean_dxh_h = 0.0;
                    for j in 0..e {
                        let dxh = dyr[j] * gamma[j];
                        mean_dxh += dxh;
                        mean_dxh_h += dxh * hr[j];
                        dgamma[j] += dyr[j] * hr[j];
                        dbeta[j] += dyr[j];
                    }
                    mean_dxh /= e as f32;
                    mean_dxh_h /= e as f32;
                    for j in 0..e {
                        dx[r * e + j] = inv_std[r] * (dyr[j] * gamma[j] - mean_dxh - hr[j] * mean_dxh_h);
                    }
                }
                vec![
                    Some(Tensor::from_shape_vec(args.inputs[0].raw_dim(), dx).expect("sized")),
                    Some(Tensor::from_shape_vec(ndarray::IxDyn(&[e]), dgamma).expect("sized")),
                    Some(Tensor::from_shape_vec(ndarray::IxDyn(&[e]), dbeta).expect("sized")),
                ]
            }),
        ))
    }
}
