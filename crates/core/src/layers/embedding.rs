//! `torch.nn.Embedding`: a table of `vocab` learned vectors, initialised N(0, 1)
//! as PyTorch does. The op is in `ops/embedding.rs`.

use super::{Module, Param};
use crate::autograd::{Graph, Var};
use crate::error::Result;
use crate::init;
use crate::rng::Rng;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;

#[derive(Debug, Clone)]
pub struct Embedding {
    pub weight: Param,
}

impl Embedding {
    pub fn new(name: &str, vocab: usize, dim: usize, rng: &mut Rng) -> Self {
        Embedding {
            weight: Param::new(format!("{name}.weight"), init::normal(&[vocab, dim], 1.0, rng)),
        }
    }

    /// ids of shape `ids_shape` (row-major) -> [..ids_shape, dim]
    pub fn forward(&self, g: &mut Graph, ids: &[usize], ids_shape: &[usize]) -> Result<Var> {
        let w = self.weight.var(g);
        g.embedding(w, ids, ids_shape)
    }
}

impl Module for Embedding {
    fn params(&self) -> Vec<&Param> {
        vec![&self.weight]
    }
    fn params_mut(&mut self) -> Vec<&mut Param> {
        vec![&mut self.weight]
    }
}
