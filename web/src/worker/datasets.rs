//! The datasets a worker fetches for its labs: each at most once per
//! worker, kept for every lab that asks (the CNN, transfer and diffusion
//! labs all want MNIST).

use std::rc::Rc;

use deepplay_core::data::mnist::Mnist;
use deepplay_core::models::transfer::{load_pretrained, Pretrained};

/// Starts fetching a dataset; the runtime hears back through
/// `dataset_progress` and `dataset_loaded`. In the browser it is the
/// `fetch` and gunzip of [`super::runtime`]; a lab's [`DatasetNeeds`] carries
/// it, so only the workers of labs that list a dataset link that code.
pub type Fetch = fn(DatasetId);

/// The datasets a lab lists, and how its worker fetches them.
#[derive(Clone, Copy)]
pub struct DatasetNeeds {
    pub ids: &'static [DatasetId],
    pub fetch: Fetch,
}

/// A dataset the worker knows how to fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DatasetId {
    /// MNIST-10k: 10,000 handwritten digits, 28x28 (`web/assets/data/`).
    Mnist,
    /// The Transfer lab's network pretrained on digits 0-4 (`make pretrain`).
    PretrainedCnn,
}

/// The shipped pretrained network's file (in `web/assets/data/`).
pub const PRETRAINED_FILE: &str = "pretrained-cnn-digits-0-4.safetensors";

impl DatasetId {
    /// How the page names it while it loads.
    pub fn label(self) -> &'static str {
        match self {
            Self::Mnist => "MNIST (10,000 handwritten digits)",
            Self::PretrainedCnn => "the pretrained network",
        }
    }

    /// The files to fetch, relative to the worker's script, with their
    /// sizes in bytes (for progress when the server sends no length).
    pub fn files(self) -> &'static [(&'static str, u64)] {
        match self {
            Self::Mnist => &[
                ("./data/mnist-10k-images-idx3-ubyte.gz", 1_613_121),
                ("./data/mnist-10k-labels-idx1-ubyte.gz", 5_123),
            ],
            Self::PretrainedCnn => &[("./data/pretrained-cnn-digits-0-4.safetensors", 19_500)],
        }
    }

    /// Turns the fetched files (in the order of [`Self::files`]) into the
    /// dataset.
    pub fn decode(self, files: &[Vec<u8>]) -> Result<Dataset, String> {
        match (self, files) {
            (Self::Mnist, [images, labels]) => Mnist::from_gzip(images, labels)
                .map(|m| Dataset::Mnist(Rc::new(m)))
                .map_err(|e| format!("The MNIST files are damaged ({e}). Reload the page.")),
            (Self::PretrainedCnn, [bytes]) => load_pretrained(bytes)
                .map(|p| Dataset::PretrainedCnn(Rc::new(p)))
                .map_err(|e| format!("The pretrained network's file is damaged ({e}). Reload the page.")),
            _ => Err(format!("{}: wrong number of files", self.label())),
        }
    }
}

/// A loaded dataset.
#[derive(Clone)]
pub enum Dataset {
    Mnist(Rc<Mnist>),
    PretrainedCnn(Rc<Pretrained>),
}

/// Every dataset this worker has loaded so far.
#[derive(Clone, Default)]
pub struct Datasets {
    mnist: Option<Rc<Mnist>>,
    pretrained: Option<Rc<Pretrained>>,
}

impl Datasets {
    pub fn has(&self, id: DatasetId) -> bool {
        match id {
            DatasetId::Mnist => self.mnist.is_some(),
            DatasetId::PretrainedCnn => self.pretrained.is_some(),
        }
    }

    pub fn insert(&mut self, dataset: Dataset) {
        match dataset {
            Dataset::Mnist(m) => self.mnist = Some(m),
            Dataset::PretrainedCnn(p) => self.pretrained = Some(p),
        }
    }

    /// The pretrained network, for a lab that listed [`DatasetId::PretrainedCnn`].
    pub fn pretrained(&self) -> Result<Rc<Pretrained>, String> {
        self.pretrained
            .clone()
            .ok_or_else(|| "The pretrained network has not been loaded yet.".to_string())
    }

    /// MNIST, for a lab that listed [`DatasetId::Mnist`] in its `DATASETS`.
    pub fn mnist(&self) -> Result<Rc<Mnist>, String> {
        self.mnist
            .clone()
            .ok_or_else(|| "MNIST has not been loaded yet.".to_string())
    }
}

/// The pretrained network the app ships, decoded: for native tests of labs.
#[cfg(test)]
pub fn shipped_pretrained() -> Rc<Pretrained> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/data/pretrained-cnn-digits-0-4.safetensors"
    );
    Rc::new(load_pretrained(&std::fs::read(path).expect("the shipped pretrained file")).expect("it decodes"))
}

/// The MNIST files the app ships, decoded: for native tests of labs.
#[cfg(test)]
pub fn shipped_mnist() -> Rc<Mnist> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/data/");
    let read = |name: &str| std::fs::read(format!("{dir}{name}")).expect("MNIST files in web/assets/data");
    let mnist = Mnist::from_gzip(
        &read("mnist-10k-images-idx3-ubyte.gz"),
        &read("mnist-10k-labels-idx1-ubyte.gz"),
    )
    .expect("the shipped files decode");
    Rc::new(mnist)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sizes behind the loading progress are those of the shipped files.
    #[test]
    fn listed_sizes_match_the_shipped_files() {
        let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/");
        for &(url, size) in DatasetId::Mnist.files().iter().chain(DatasetId::PretrainedCnn.files()) {
            let path = format!("{assets}{}", url.trim_start_matches("./"));
            let actual = std::fs::metadata(&path).map(|m| m.len());
            assert_eq!(actual.ok(), Some(size), "{path}");
        }
    }
}
