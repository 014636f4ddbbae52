//! The server over HTTP: the real router, a real SQLite file per test.

mod bad_input;
mod common;
mod concurrency;
mod protection;
mod pwa;
mod security;
mod shell;
mod student_path;
