//! The Lixiao server as a library, so tests can build the same router `main` serves.

pub mod compress;
pub mod pwa;
pub mod routes;
pub mod security;
pub mod sessions;
pub mod sync;
pub mod telemetry;
