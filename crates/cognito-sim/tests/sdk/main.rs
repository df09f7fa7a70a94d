//! The simulator driven by the real AWS SDK over HTTP: protocol, pagination, validation,
//! STS identities, the organization, and every fault kind as a client meets it, checked
//! against the simulator's own counters.
//!
//! Nothing here waits a fixed time or asserts how long something took: tests that involve
//! time wait for a condition, with a deadline (see [`harness::eventually`]).

mod answers;
mod binary;
mod control;
mod damage;
mod faults;
mod harness;
mod identity;
mod organizations;
mod user_pools;
