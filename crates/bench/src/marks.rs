//! Timing a graph's backward pass part by part. The core has no profiler:
//! a breakdown puts an identity node after each timed op's output whose
//! backward closure logs when it runs; the gaps between consecutive marks
//! are the backward time of the ops between them. Shared by the recurrent
//! and Transformer breakdowns.

use crate::now_ms;
use deepplay_core::{Graph, Var};
use std::cell::RefCell;
use std::rc::Rc;

/// One marker's backward closure: its part, when it started and ended.
#[derive(Clone, Copy)]
pub(crate) struct Mark {
    pub part: usize,
    pub start: f64,
    pub end: f64,
}

pub(crate) type Log = Rc<RefCell<Vec<Mark>>>;

/// An identity node after `v` that logs when its backward closure runs
/// (nothing when `v` takes no gradient: no backward runs through it).
pub(crate) fn mark(g: &mut Graph, v: Var, part: usize, log: &Log) -> Var {
    if !g.requires_grad(v) {
        return v;
    }
    let value = g.buffers().copy(g.value(v));
    let log = Rc::clone(log);
    g.custom(&[v], value, move |args| {
        let start = now_ms();
        let grad = args.buffers.copy(args.grad);
        log.borrow_mut().push(Mark {
            part,
            start,
            end: now_ms(),
        });
        vec![Some(grad)]
    })
}
