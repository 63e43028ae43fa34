//! Reductions: sum and mean of all elements, sum along one axis.

use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::tensor::{scalar, Tensor};
use alloc::boxed::Box;
use alloc::vec;
use ndarray::Axis;

impl Graph {
    /// Sum of every element, shape [].
    pub fn sum(&mut self, x: Var) -> Var {
        let value = scalar(self.value(x).sum());
        self.push_op(
            &[x],
            value,
            Box::new(|args| {
                let g = args.grad.iter().next().copied().unwrap_or(0.0);
                vec![Some(Tensor::from_elem(args.inputs[0].raw_dim(), g))]
            }),
        )
    }

    /// Mean of every element, shape [].
    pub fn mean(&mut self, x: Var) -> Var {
        let n = self.value(x).len().max(1) as f32;
        let s = self.sum(x);
        self.scale(s, 1.0 / n)
    }

    /// Sum along `axis`, keeping it as size 1 when `keepdim`.
    pub fn sum_axis(&mut self, x: Var, axis: usize, keepdim: bool) -> Result<Var> {
        let shape = self.shape(x).to_vec();
        if axis >= shape.len() {
            return Err(Error::invalid(
                "sum_axis",
                alloc::format!("axis {axis} out of range for shape {shape:?}"),
            ));
        }
        let mut value = self.value(x).sum_axis(Axis(axis));
        if keepdim {
            value = value.insert_axis(Axis(axis));
        }
        Ok(self.push_op(
            &[x],
            value,
            Box::new(move |args| {
                let g = if keepdim {
                    args.grad.clone()
                } else {
                    args.grad.clone().insert_axis(Axis(axis))
                };
                let full = g
                    .broadcast(args.inputs[0].raw_dim())
                    .expect("keepdim shape broadcasts")
                    .to_owned();
                vec![Some(full)]
            }),
        ))
    }
}
