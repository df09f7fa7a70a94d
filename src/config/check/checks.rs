//! `checks`: whether the configured log destinations are checked, and how often.

use config_walk::{child, present};
use figment::value::Value;

use super::super::ChecksConfig;
use super::super::bounds;
use super::Checker;

const KEY: &str = "checks";

impl Checker {
    /// `checks`: `destinations` (false) and `interval` (1h).
    pub(super) fn checks(&mut self, value: &Value) -> ChecksConfig {
        let mut checks = ChecksConfig::default();
        let Some(dict) = self.walk.mapping(KEY, value, &["destinations", "interval"]) else {
            return checks;
        };
        if let Some(v) = present(dict.get("destinations"))
            && let Some(on) = self.walk.boolean(&child(KEY, "destinations"), v)
        {
            checks.destinations = on;
        }
        if let Some(v) = present(dict.get("interval"))
            && let Some(d) = self.duration(&child(KEY, "interval"), v, &bounds::LONG)
        {
            checks.interval = d;
        }
        checks
    }
}
