//! Losses: softmax cross-entropy on integer labels (`F.cross_entropy`, mean
//! reduction) and mean squared error (`F.mse_loss`).

use super::{contiguous, softmax::softmax_rows};
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::tensor::{scalar, Tensor};
use alloc::boxed::Box;
use alloc::vec;

impl Graph {
    /// Mean over the batch of -log softmax(logits)[label]; logits [N, K].
    /// Fused with the softmax: stable, and its gradient is (p - onehot) / N.
    pub fn cross_entropy(&mut self, logits: Var, labels: &[usize]) -> Result<Var> {
        let shape = self.shape(logits).to_vec();
        if shape.len() != 2 || shape[0] != labels.len() || shape[0] == 0 {
            return Err(Error::shape(
                "cross_entropy",
                "logits [N, K] vs labels [N]",
                &shape,
                &[labels.len()],
            ));
        }
        let (n, k) = (shape[0], shape[1]);
        if let Some(&bad) = labels.iter().find(|&&l| l >= k) {
            return Err(Error::invalid(
                "cross_entropy",
                alloc::format!("label {bad} is not below the class count {k}"),
            ));
        }
        // loss_i = logsumexp(z_i) - z_i[label]: exact even where the softmax
        // probability of the label underflows, so a blown-up network shows a
        // huge loss instead of a clamped one.
        let zc = contiguous(self.value(logits));
        let z = zc.as_slice().expect("standard layout");
        let mut loss = 0.0f32;
        for (row, &label) in z.chunks(k).zip(labels) {
            let max = row.iter().fold(f32::NEG_INFINITY, |m, &v| m.max(v));
            let sum: f32 = row.iter().map(|&v| libm::expf(v - max)).sum();
            loss += max + libm::logf(sum) - row[label];
        }
        let mut probs = zc.into_owned();
        softmax_rows(probs.as_slice_mut().expect("standard layout"), k);
        let value = scalar(loss / n as f32);
        let labels = labels.to_vec();
        Ok(self.push_op(
            &[logits],
            value,
            Box::new(move |args| {
                let scale = args.grad.iter().next().copied().unwrap_or(0.0) / n as f32;
                let mut d: Tensor = probs.clone();
                let ds = d.as_slice_mut().expect("standard layout");
                for (row, &label) in ds.chunks_mut(k).zip(&labels) {
                    row[label] -= 1.0;
                    row.iter_mut().for_each(|v| *v *= scale);
                }
                vec![Some(d)]
            }),
        ))
    }

    /// mean((x - y)^2) over every element; x and y have the same shape.
    pub fn mse_loss(&mut self, x: Var, y: Var) -> Result<Var> {
        if self.shape(x) != self.shape(y) {
            return Err(Error::shape("mse_loss", "x vs y", self.shape(x), self.shape(y)));
        }
        let diff = self.sub(x, y)?;
        let sq = self.square(diff);
        Ok(self.mean(sq))
    }
}
