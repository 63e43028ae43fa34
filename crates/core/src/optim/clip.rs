//! `torch.nn.utils.clip_grad_norm_`: if the global L2 norm of all gradients
//! exceeds `max_norm`, scale them all by max_norm / (norm + 1e-6).

use crate::layers::Param;

/// Returns the norm before clipping (so a lab can chart it).
pub fn clip_grad_norm(params: &mut [&mut Param], max_norm: f32) -> f32 {
    let total: f64 = params
        .iter()
        .flat_map(|p| p.grad.iter())
        .map(|&g| (g as f64) * (g as f64))
        .sum();
    let norm = libm::sqrt(total) as f32;
    if norm > max_norm {
        let scale = max_norm / (norm + 1e-6);
        for p in params.iter_mut() {
            p.grad.mapv_inplace(|g| g * scale);
        }
    }
    norm
}
