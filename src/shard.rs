//! Which targets this process polls when the work is split across replicas
//! (`--shard N --total-shards M`): each target, by its account and region, belongs to
//! exactly one shard, chosen by jump consistent hashing (Lamping and Veach, 2014) so
//! that going from M to M+1 shards moves only the targets the new shard takes, about
//! one in M+1.

use std::fmt;

use crate::model::TargetId;

/// This process's part of the work: shard `ordinal` of `total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    ordinal: u32,
    total: u32,
}

/// Why `--shard` and `--total-shards` do not make a shard.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShardError {
    #[error("--total-shards must be at least 1")]
    NoShards,
    #[error("--shard {ordinal} must be below --total-shards {total}")]
    OutOfRange { ordinal: u32, total: u32 },
    #[error("--shard: expected a whole number or \"auto\", got {0:?}")]
    NotANumber(String),
    #[error(
        "--shard auto: the host name {0:?} does not end in -N (a StatefulSet pod's \
         ordinal, as in cognito-exporter-2); give the shard number instead"
    )]
    NoOrdinal(String),
}

impl Default for Shard {
    /// The whole work: one shard of one.
    fn default() -> Self {
        Self {
            ordinal: 0,
            total: 1,
        }
    }
}

impl Shard {
    /// Shard `ordinal` of `total`.
    pub fn new(ordinal: u32, total: u32) -> Result<Self, ShardError> {
        if total == 0 {
            return Err(ShardError::NoShards);
        }
        if ordinal >= total {
            return Err(ShardError::OutOfRange { ordinal, total });
        }
        Ok(Self { ordinal, total })
    }

    /// From the flags: `shard` is a number, or `auto` for the trailing `-N` of
    /// `hostname`.
    pub fn from_flags(shard: &str, total: u32, hostname: &str) -> Result<Self, ShardError> {
        let ordinal = if shard == "auto" {
            hostname
                .rsplit_once('-')
                .and_then(|(_, n)| n.parse().ok())
                .ok_or_else(|| ShardError::NoOrdinal(hostname.to_owned()))?
        } else {
            shard
                .parse()
                .map_err(|_| ShardError::NotANumber(shard.to_owned()))?
        };
        Self::new(ordinal, total)
    }

    pub fn ordinal(self) -> u32 {
        self.ordinal
    }

    pub fn total(self) -> u32 {
        self.total
    }

    /// Whether the target `id` is this shard's to poll.
    pub fn owns(self, id: &TargetId) -> bool {
        self.total == 1 || shard_of(id, self.total) == self.ordinal
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "shard {} of {}", self.ordinal, self.total)
    }
}

/// The shard of `total` that polls target `id`.
pub fn shard_of(id: &TargetId, total: u32) -> u32 {
    jump(key(id), total)
}

/// A hash of the target's account and region that never changes between builds,
/// versions or machines (every replica must agree): FNV-1a, then the SplitMix64
/// finalizer so that nearby account IDs land far apart.
fn key(id: &TargetId) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let bytes = id.account_id.bytes().chain([b'/']).chain(id.region.bytes());
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

/// Jump consistent hash: the bucket of `key` among `buckets` (at least 1).
fn jump(mut key: u64, buckets: u32) -> u32 {
    let mut b: i64 = -1;
    let mut j: i64 = 0;
    while j < i64::from(buckets) {
        b = j;
        key = key.wrapping_mul(2_862_933_555_777_941_757).wrapping_add(1);
        // The top 31 bits of the key, as a fraction of 2^31.
        let r = ((key >> 33) + 1) as f64;
        j = ((b + 1) as f64 * (f64::from(1u32 << 31) / r)) as i64;
    }
    u32::try_from(b).expect("a bucket below `buckets`")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(accounts: u64, regions: &[&str]) -> Vec<TargetId> {
        (0..accounts)
            .flat_map(|a| {
                regions
                    .iter()
                    .map(move |r| TargetId::new(format!("{:012}", 100_000_000_000 + a), *r))
            })
            .collect()
    }

    #[test]
    fn every_target_belongs_to_exactly_one_shard() {
        let targets = fleet(500, &["eu-west-1", "us-east-1"]);
        for total in 1..=7 {
            let shards: Vec<Shard> = (0..total)
                .map(|n| Shard::new(n, total).expect("a valid shard"))
                .collect();
            for id in &targets {
                let owners = shards.iter().filter(|s| s.owns(id)).count();
                assert_eq!(owners, 1, "{id} with {total} shards");
            }
        }
    }

    #[test]
    fn shards_are_balanced() {
        let targets = fleet(1000, &["eu-west-1", "us-east-1"]);
        let mut counts = [0usize; 4];
        for id in &targets {
            counts[shard_of(id, 4) as usize] += 1;
        }
        // 500 expected each; a fair hash stays well within 15%.
        for c in counts {
            assert!((425..=575).contains(&c), "{counts:?}");
        }
    }

    #[test]
    fn one_more_shard_moves_only_its_share() {
        let targets = fleet(500, &["eu-west-1", "us-east-1"]);
        for total in 1..=8u32 {
            let mut moved = 0;
            for id in &targets {
                let (before, after) = (shard_of(id, total), shard_of(id, total + 1));
                if before != after {
                    // Only to the new shard, never between old ones.
                    assert_eq!(after, total, "{id}");
                    moved += 1;
                }
            }
            // 1/(M+1) of 1,000 expected; allow for a fair hash's spread.
            let expected = targets.len() as f64 / f64::from(total + 1);
            assert!(
                (moved as f64) < expected * 1.2 && (moved as f64) > expected * 0.8,
                "{total} -> {}: {moved} moved, about {expected:.0} expected",
                total + 1
            );
        }
    }

    #[test]
    fn the_hash_is_stable_across_builds() {
        // Every replica, whatever its version, must put a target in the same shard:
        // these values are fixed once and for all.
        let id = TargetId::new("111111111111", "eu-west-1");
        assert_eq!(shard_of(&id, 4), shard_of(&id.clone(), 4));
        assert_eq!(key(&TargetId::new("", "")), key(&TargetId::new("", "")));
        let expected: Vec<u32> = fleet(8, &["eu-west-1"])
            .iter()
            .map(|id| shard_of(id, 5))
            .collect();
        assert_eq!(expected, STABLE, "the shard function changed");
    }

    /// `shard_of` for accounts 100000000000..=100000000007 in eu-west-1 with 5 shards.
    const STABLE: [u32; 8] = [2, 3, 2, 4, 2, 0, 4, 0];

    #[test]
    fn flags() {
        assert_eq!(Shard::from_flags("2", 3, "x"), Shard::new(2, 3));
        assert_eq!(
            Shard::from_flags("auto", 3, "cognito-exporter-1"),
            Shard::new(1, 3)
        );
        assert_eq!(
            Shard::from_flags("auto", 3, "cognito-exporter"),
            Err(ShardError::NoOrdinal("cognito-exporter".into()))
        );
        assert_eq!(
            Shard::from_flags("auto", 3, "exporter-7"),
            Err(ShardError::OutOfRange {
                ordinal: 7,
                total: 3
            })
        );
        assert_eq!(
            Shard::from_flags("one", 3, "x"),
            Err(ShardError::NotANumber("one".into()))
        );
        assert_eq!(Shard::new(0, 0), Err(ShardError::NoShards));
    }
}
