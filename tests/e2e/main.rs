//! End-to-end tests: the exporter polls `cognito-sim` through the real AWS SDK over
//! HTTP, and each test asserts on what a scraper sees. One binary for all of them.

mod harness;

mod exposition;
mod faults;
mod hardening;
mod lifecycle;
