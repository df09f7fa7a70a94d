//! The simulator driven by the real AWS SDK over HTTP: protocol, pagination, validation,
//! STS identities, the organization, feature plans, the destination services (CloudWatch
//! Logs, S3, Firehose), and every fault kind as a client meets it, checked
//! against the simulator's own counters.
//!
//! Nothing here waits a fixed time or asserts how long something took: tests that involve
//! time wait for a condition, with a deadline (see [`harness::eventually`]).

mod answers;
mod binary;
mod buckets;
mod control;
mod damage;
mod destinations;
mod faults;
mod harness;
mod identity;
mod log_groups;
mod organizations;
mod plans;
mod user_pools;
