//! The exporter's integration tests, in one binary so the AWS SDK is linked once.
//!
//! Most tests run the exporter in-process against `cognito-sim`, polled through the real
//! AWS SDK over HTTP on loopback, and assert on what a scraper sees; `cli`, `listening`
//! and `secured` run the real `cognito-exporter` binary as a child process, as an
//! operator would. `harness` holds what they share.

mod harness;

mod checks;
mod cli;
mod deadline;
mod degradation;
mod exposition;
mod faults;
mod features;
mod flood;
mod hardening;
mod identity;
mod lifecycle;
mod listening;
mod logs;
mod malformed;
mod newcomer;
mod organization;
mod reload;
mod secured;
mod status_page;
