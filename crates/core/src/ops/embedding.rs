//! Embedding lookup (`F.embedding`): ids of any shape index rows of w [V, E];
//! the backward pass adds each output row's gradient onto the row it came from.

use super::contiguous;
use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::IxDyn;

impl Graph {
    /// ids (row-major, of shape `ids_shape`) -> [..ids_shape, E].
    pub fn embedding(&mut self, w: Var, ids: &[usize], ids_shape: &[usize]) -> Result<Var> {
        let ws = self.shape(w).to_vec();
        if ws.len() != 2 {
            return Err(Error::shape("embedding", "weight must be [vocab, dim]", &ws, &[]));
        }
        if ids_shape.iter().product::<usize>() != ids.len() {
            return Err(Error::shape(
                "embedding",
                "ids shape vs ids count",
                ids_shape,
                &[ids.len()],
            ));
        }
        let (vocab, e) = (ws[0], ws[1]);
        if let Some(&bad) = ids.iter().find(|&&i| i >= vocab) {
            return Err(Error::invalid(
                "embedding",
                alloc::format!("id {bad} is not below the vocabulary size {vocab}"),
            ));
        }
        let wc = contiguous(self.value(w));
        let table = wc.as_slice().expect("standard layout");
        let mut out = Vec::with_capacity(ids.len() * e);
        for &id in ids {
            out.extend_from_slice(&table[id * e..(id + 1) * e]);
        }
        drop(wc);
        let mut shape = ids_shape.to_vec();
        shape.push(e);
        let value = Tensor::from_shape_vec(IxDyn(&shape), out).expect("sized");
        let ids = ids.to_vec();
        Ok(self.push_op(
            &[w],
            value,
            Box::new(move |args| {
                let gc = contiguous(args.grad);
                let mut dw = vec![0.0f32; vocab * e];
                for (&id, row) in ids.iter().zip(gc.as_slice().expect("standard layout").chunks(e)) {
                    dw[id * e..(id + 1) * e].iter_mut().zip(row).for_each(|(d, g)| *d += g);
                }
                vec![Some(Tensor::from_shape_vec(IxDyn(&[vocab, e]), dw).expect("sized"))]
            }),
        ))
    }
}
