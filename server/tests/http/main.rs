//! The server over HTTP: the real router, a fresh real database per test (a SQLite
//! file, or a PostgreSQL database when `LIXIAO_TEST_BACKEND=postgres`).

#[macro_use]
#[path = "../support/mod.rs"]
mod support;

mod bad_input;
mod common;
mod concurrency;
mod desk;
mod import;
mod protection;
mod pwa;
mod school;
mod security;
mod shell;
mod static_files;
mod student_path;
mod sync;
mod verify;
