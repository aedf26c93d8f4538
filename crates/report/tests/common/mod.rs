//! Helpers shared by the integration tests and the benchmark example. Not every test binary uses
//! every helper.
#![allow(dead_code)]

pub mod chromium;
pub mod fixtures;
