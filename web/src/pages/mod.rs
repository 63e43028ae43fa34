//! Pages that are not a lab's own: the index, the route that finds a lab
//! by its slug, the placeholder of a lab not built yet, and the plumbing
//! every lab page shares (its worker and its training controls).

pub mod coming_soon;
pub mod index;
pub mod lab_controls;
pub mod lab_route;
pub mod not_found;
