//! Pages that belong to no single feature.

mod home;
mod not_found;

pub use home::Home;
pub use not_found::NotFound;
