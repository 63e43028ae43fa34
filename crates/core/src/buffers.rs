//! Float buffers recycled from one training step to the next.
//!
//! Every step of a training loop builds the same tape: the same ops, the same
//! shapes. When the loop keeps one [`crate::Graph`] and calls
//! [`crate::Graph::reset`] between steps, the buffers of the last step's
//! values, gradients and saved tensors come back here, and the ops of the
//! next step take them instead of asking the allocator (and zeroing
//! megabytes: conv's unrolled columns are 5 MB a step for the CNN lab).
//!
//! A buffer that a whole step did not take back is freed at the next reset,
//! so the pool never holds more than about one step's worth.

use crate::tensor::Tensor;
use alloc::vec;
use alloc::vec::Vec;
use core::cell::RefCell;
use ndarray::IxDyn;

#[derive(Default)]
pub struct Buffers {
    pools: RefCell<Pools>,
}

#[derive(Default)]
struct Pools {
    /// Handed back at the last reset and not taken since.
    from_reset: Vec<Vec<f32>>,
    /// Given back during this step (scratch, accumulated gradients).
    given: Vec<Vec<f32>>,
}

impl Buffers {
    /// A buffer of `len` floats whose contents are left from an earlier use:
    /// for outputs the caller writes whole. The smallest free buffer that
    /// fits, or a new one.
    pub fn take(&self, len: usize) -> Vec<f32> {
        let mut pools = self.pools.borrow_mut();
        let Pools { from_reset, given } = &mut *pools;
        let best_fit = |list: &Vec<Vec<f32>>| {
            list.iter()
                .enumerate()
                .filter(|(_, b)| b.capacity() >= len)
                .min_by_key(|(_, b)| b.capacity())
                .map(|(i, b)| (i, b.capacity()))
        };
        let found = match (best_fit(from_reset), best_fit(given)) {
            (Some((i, a)), Some((_, b))) if a <= b => Some(from_reset.swap_remove(i)),
            (_, Some((j, _))) => Some(given.swap_remove(j)),
            (Some((i, _)), None) => Some(from_reset.swap_remove(i)),
            (None, None) => None,
        };
        match found {
            Some(mut buffer) => {
                if buffer.len() >= len {
                    buffer.truncate(len);
                } else {
                    buffer.resize(len, 0.0);
                }
                buffer
            }
            None => vec![0.0; len],
        }
    }

    /// A buffer of `len` zeros.
    pub fn take_zeroed(&self, len: usize) -> Vec<f32> {
        let mut buffer = self.take(len);
        buffer.fill(0.0);
        buffer
    }

    /// A standard-layout tensor of `shape`, contents left from an earlier use.
    pub fn tensor(&self, shape: &[usize]) -> Tensor {
        let len = shape.iter().product();
        Tensor::from_shape_vec(IxDyn(shape), self.take(len)).expect("sized")
    }

    /// A copy of `t` in a recycled buffer (standard layout).
    pub fn copy(&self, t: &Tensor) -> Tensor {
        let mut buffer = self.take(t.len());
        match t.as_slice() {
            Some(data) => buffer.copy_from_slice(data),
            None => buffer.iter_mut().zip(t.iter()).for_each(|(b, &v)| *b = v),
        }
        Tensor::from_shape_vec(t.raw_dim(), buffer).expect("same length")
    }

    /// Give a buffer back for later steps.
    pub fn give(&self, buffer: Vec<f32>) {
        if buffer.capacity() > 0 {
            self.pools.borrow_mut().given.push(buffer);
        }
    }

    /// Give a tensor's buffer back.
    pub fn give_tensor(&self, t: Tensor) {
        self.give(t.into_raw_vec_and_offset().0);
    }

    /// Start a new step with `returned` (the last step's buffers) and what
    /// was given back during it; what the last step never took is freed.
    pub(crate) fn recycle(&self, returned: impl IntoIterator<Item = Vec<f32>>) {
        let mut pools = self.pools.borrow_mut();
        let given = core::mem::take(&mut pools.given);
        pools.from_reset = returned.into_iter().filter(|b| b.capacity() > 0).chain(given).collect();
    }

    /// Number of free buffers (for tests).
    pub fn free_count(&self) -> usize {
        let pools = self.pools.borrow();
        pools.from_reset.len() + pools.given.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_the_smallest_buffer_that_fits_and_frees_what_a_step_left() {
        let buffers = Buffers::default();
        buffers.recycle([vec![1.0; 10], vec![2.0; 4], vec![3.0; 100]]);
        let b = buffers.take(3);
        assert_eq!((b.len(), b[0]), (3, 2.0), "smallest that fits, old contents");
        assert_eq!(buffers.take_zeroed(8), vec![0.0; 8]);
        assert_eq!(buffers.free_count(), 1);
        // The next step: a scratch buffer given back during it, and at its
        // end the 100-float buffer (never taken) is freed.
        buffers.give(vec![0.0; 5]);
        buffers.recycle([b]);
        assert_eq!(buffers.free_count(), 2);
        // A step that takes nothing: everything is freed.
        buffers.recycle([]);
        assert_eq!(buffers.free_count(), 0);
    }
}
