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

/// The table's size, named as `torch.nn.Embedding`'s arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EmbeddingConfig {
    /// Vocabulary size: ids run from 0 to `num_embeddings - 1`.
    pub num_embeddings: usize,
    /// Length of each vector.
    pub embedding_dim: usize,
}

#[derive(Debug, Clone)]
pub struct Embedding {
    pub weight: Param,
}

impl Embedding {
    pub fn new(name: &str, config: EmbeddingConfig, rng: &mut Rng) -> Self {
        let shape = [config.num_embeddings, config.embedding_dim];
        Embedding {
            weight: Param::new(format!("{name}.weight"), init::normal(&shape, 1.0, rng)),
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
