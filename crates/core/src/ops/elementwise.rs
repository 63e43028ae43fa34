//! Broadcasting arithmetic (add, sub, mul, div), scalar arithmetic, exp, log,
//! square. Gradients of broadcast operands are summed back to their shape.

use super::{map, zip_map};
use crate::autograd::{Graph, Var};
use crate::error::Result;
use crate::tensor::{broadcast_shape, sum_to_shape};
use alloc::boxed::Box;
use alloc::vec;

impl Graph {
    /// `a + b` with broadcasting (`torch.add`).
    pub fn add(&mut self, a: Var, b: Var) -> Result<Var> {
        broadcast_shape("add", self.shape(a), self.shape(b))?;
        let value = self.value(a) + self.value(b);
        Ok(self.push_op(
            &[a, b],
            value,
            Box::new(|args| {
                let g = args.grad;
                vec![
                    Some(sum_to_shape(g.clone(), args.inputs[0].shape())),
                    Some(sum_to_shape(g.clone(), args.inputs[1].shape())),
                ]
            }),
        ))
    }

    /// `a - b` with broadcasting.
    pub fn sub(&mut self, a: Var, b: Var) -> Result<Var> {
        broadcast_shape("sub", self.shape(a), self.shape(b))?;
        let value = self.value(a) - self.value(b);
        Ok(self.push_op(
            &[a, b],
            value,
            Box::new(|args| {
                let g = args.grad;
                vec![
                    Some(sum_to_shape(g.clone(), args.inputs[0].shape())),
                    Some(sum_to_shape(-g, args.inputs[1].shape())),
                ]
            }),
        ))
    }

    /// `a * b` elementwise with broadcasting.
    pub fn mul(&mut self, a: Var, b: Var) -> Result<Var> {
        broadcast_shape("mul", self.shape(a), self.shape(b))?;
        let value = self.value(a) * self.value(b);
        Ok(self.push_op(
            &[a, b],
            value,
            Box::new(|args| {
                let (a, b, g) = (args.inputs[0], args.inputs[1], args.grad);
                vec![
                    args.needs_grad[0].then(|| sum_to_shape(g * b, a.shape())),
                    args.needs_grad[1].then(|| sum_to_shape(g * a, b.shape())),
                ]
            }),
        ))
    }

    /// `a / b` elementwise with broadcasting.
    pub fn div(&mut self, a: Var, b: Var) -> Result<Var> {
        broadcast_shape("div", self.shape(a), self.shape(b))?;
        let value = self.value(a) / self.value(b);
        Ok(self.push_op(
            &[a, b],
            value,
            Box::new(|args| {
                let (a, b, g, out) = (args.inputs[0], args.inputs[1], args.grad, args.output);
                // d(a/b)/db = -a/b^2 = -out/b
                vec![
                    args.needs_grad[0].then(|| sum_to_shape(g / b, a.shape())),
                    args.needs_grad[1].then(|| sum_to_shape(-(g * out) / b, b.shape())),
                ]
            }),
        ))
    }

    /// `x * c` for a constant scalar `c`.
    pub fn scale(&mut self, x: Var, c: f32) -> Var {
        let value = self.value(x) * c;
        self.push_op(&[x], value, Box::new(move |args| vec![Some(args.grad * c)]))
    }

    /// `x + c` for a constant scalar `c`.
    pub fn add_scalar(&mut self, x: Var, c: f32) -> Var {
        let value = self.value(x) + c;
        self.push_op(&[x], value, Box::new(|args| vec![Some(args.grad.clone())]))
    }

    pub fn neg(&mut self, x: Var) -> Var {
        self.scale(x, -1.0)
    }

    pub fn exp(&mut self, x: Var) -> Var {
        let value = map(self.buffers(), self.value(x), libm::expf);
        self.push_op(&[x], value, Box::new(|args| vec![Some(args.grad * args.output)]))
    }

    /// Natural log; the caller keeps its input positive.
    pub fn log(&mut self, x: Var) -> Var {
        let value = map(self.buffers(), self.value(x), libm::logf);
        self.push_op(&[x], value, Box::new(|args| vec![Some(args.grad / args.inputs[0])]))
    }

    pub fn square(&mut self, x: Var) -> Var {
        let value = map(self.buffers(), self.value(x), |v| v * v);
        self.push_op(
            &[x],
            value,
            Box::new(|args| {
                vec![Some(zip_map(args.buffers, args.grad, args.inputs[0], |g, x| {
                    2.0 * g * x
                }))]
            }),
        )
    }

    pub fn sqrt(&mut self, x: Var) -> Var {
        let value = map(self.buffers(), self.value(x), libm::sqrtf);
        self.push_op(
            &[x],
            value,
            Box::new(|args| vec![Some(zip_map(args.buffers, args.grad, args.output, |g, y| 0.5 * g / y))]),
        )
    }
}
