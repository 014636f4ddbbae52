//! Pages that belong to no single feature.

mod hall;
mod not_found;

pub use hall::HallPage;
pub use not_found::NotFound;
