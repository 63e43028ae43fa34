//! One module per page. Labs not built yet render [`coming_soon::ComingSoon`].

pub mod attention;
pub mod cnn;
pub mod coming_soon;
pub mod detection;
pub mod diffusion;
pub mod gan;
pub mod index;
pub mod lab_controls;
pub mod not_found;
pub mod playground;
pub mod sequences;
pub mod transfer;
