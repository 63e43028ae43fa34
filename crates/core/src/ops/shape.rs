//! Reshaping ops: reshape, permute (a general transpose), narrow (a slice
//! along one axis) and concat. Outputs are always standard (row-major) layout
//! so the kernels downstream can work on plain slices.

use crate::autograd::{Graph, Var};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use ndarray::{Axis, IxDyn, Slice};

impl Graph {
    /// Same data, new shape (`torch.reshape`).
    pub fn reshape(&mut self, x: Var, shape: &[usize]) -> Result<Var> {
        let old = self.shape(x).to_vec();
        if old.iter().product::<usize>() != shape.iter().product::<usize>() {
            return Err(Error::shape("reshape", "element counts differ", &old, shape));
        }
        let value = self
            .buffers()
            .copy(self.value(x))
            .into_shape_with_order(IxDyn(shape))
            .expect("counts checked, layout standard");
        Ok(self.push_op(
            &[x],
            value,
            Box::new(move |args| {
                let g = args.buffers.copy(args.grad).into_shape_with_order(IxDyn(&old));
                vec![Some(g.expect("same element count"))]
            }),
        ))
    }

    /// Reorder axes (`torch.permute`): output axis i is input axis `axes[i]`.
    pub fn permute(&mut self, x: Var, axes: &[usize]) -> Result<Var> {
        let rank = self.shape(x).len();
        let mut seen = vec![false; rank];
        let valid = axes.len() == rank
            && axes
                .iter()
                .all(|&a| a < rank && !core::mem::replace(&mut seen[a], true));
        if !valid {
            return Err(Error::shape(
                "permute",
                "axes must be a permutation of the input's axes",
                self.shape(x),
                axes,
            ));
        }
        let value = self
            .value(x)
            .view()
            .permuted_axes(IxDyn(axes))
            .as_standard_layout()
            .into_owned();
        let mut inverse = vec![0; rank];
        for (i, &a) in axes.iter().enumerate() {
            inverse[a] = i;
        }
        Ok(self.push_op(
            &[x],
            value,
            Box::new(move |args| {
                vec![Some(
                    args.grad
                        .view()
                        .permuted_axes(IxDyn(&inverse))
                        .as_standard_layout()
                        .into_owned(),
                )]
            }),
        ))
    }

    /// Elements `start..start + len` along `axis` (`torch.narrow`).
    pub fn narrow(&mut self, x: Var, axis: usize, start: usize, len: usize) -> Result<Var> {
        let shape = self.shape(x).to_vec();
        if axis >= shape.len() || start + len > shape[axis] {
            return Err(Error::invalid(
                "narrow",
                alloc::format!(
                    "range {start}..{} on axis {axis} is outside shape {shape:?}",
                    start + len
                ),
            ));
        }
        let value = self
            .value(x)
            .slice_axis(Axis(axis), Slice::from(start..start + len))
            .as_standard_layout()
            .into_owned();
        Ok(self.push_op(
            &[x],
            value,
            Box::new(move |args| {
                let mut g = Tensor::zeros(IxDyn(&shape));
                g.slice_axis_mut(Axis(axis), Slice::from(start..start + len))
                    .assign(args.grad);
                vec![Some(g)]
            }),
        ))
    }

    /// Join tensors along `axis` (`torch.cat`); all other axes must agree.
    pub fn concat(&mut self, xs: &[Var], axis: usize) -> Result<Var> {
        let Some(&first) = xs.first() else {
            return Err(Error::invalid("concat", "needs at least one tensor"));
        };
        let base = self.shape(first).to_vec();
        if axis >= base.len() {
            return Err(Error::invalid(
                "concat",
                alloc::format!("axis {axis} out of range for shape {base:?}"),
            ));
        }
        let mut sizes = Vec::with_capacity(xs.len());
        for &x in xs {
            let s = self.shape(x);
            let agrees =
                s.len() == base.len() && s.iter().zip(&base).enumerate().all(|(i, (a, b))| i == axis || a == b);
            if !agrees {
                return Err(Error::shape(
                    "concat",
                    "shapes must agree except along the axis",
                    &base,
                    s,
                ));
            }
            sizes.push(s[axis]);
        }
        let views: Vec<_> = xs.iter().map(|&x| self.value(x).view()).collect();
        let value = ndarray::concatenate(Axis(axis), &views).expect("shapes checked");
        Ok(self.push_op(
            xs,
            value,
            Box::new(move |args| {
                let mut start = 0;
                sizes
                    .iter()
                    .map(|&n| {
                        let part = args
                            .grad
                            .slice_axis(Axis(axis), Slice::from(start..start + n))
                            .to_owned();
                        start += n;
                        Some(part)
                    })
                    .collect()
            }),
        ))
    }
}
