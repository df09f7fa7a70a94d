//! The render cache: a target's snapshot rendered into [`Segment`]s, re-rendering only
//! what changed since the target's last render.
//!
//! A target's pools are cut into blocks (about [`BLOCK_POOLS`] pools each, cut where a
//! pool ID's hash says so, so that adding or removing a pool moves the cuts around it
//! only), and each per-pool family of each block is a separate segment. Each segment
//! carries a fingerprint of what its lines are made of (a keyed hash of the target, the
//! pools' IDs and what the family's declaration says it shows); the next cycle
//! re-renders only the segments whose fingerprint changed, and a cycle that changed
//! nothing renders and compresses nothing.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::io;

use flate2::{Compress, Compression, Decompress};

use super::Format;
use super::segment::Segment;
use crate::metrics::families::{
    POOL_FAMILIES, PoolFamily, Samples, TARGET_FAMILIES, TargetFamily, headers, push_label,
};
use crate::model::{PoolRecord, TargetId, TargetSnapshot};

/// Pools per block, on average. One changed pool re-renders and recompresses its block
/// (about 200 KB of text at most, a millisecond or two); each block costs a few hundred
/// bytes of compression ratio (its history starts empty) and a slice in a scrape's
/// `writev`.
pub(crate) const BLOCK_POOLS: u64 = 256;
/// A block ends after this many pools whatever the IDs, so no block grows unbounded.
const MAX_BLOCK_POOLS: usize = 4 * BLOCK_POOLS as usize;

/// A family's HELP and TYPE lines as segments: one both formats serve, or (a counter's)
/// one per format.
#[derive(Clone, Debug)]
pub(crate) enum Header {
    Shared(Segment),
    /// Indexed by [`Format::index`].
    PerFormat([Segment; 2]),
}

/// The header of every family, in exposition order.
pub(crate) fn family_headers() -> io::Result<Vec<Header>> {
    headers()
        .map(|(name, help, metric_type)| {
            let text = |openmetrics| {
                let family = metric_type.family_name(name, openmetrics);
                let kind = metric_type.as_str();
                format!("# HELP {family} {help}\n# TYPE {family} {kind}\n").into_bytes()
            };
            let (classic, openmetrics) = (text(false), text(true));
            Ok(if classic == openmetrics {
                Header::Shared(Segment::new(classic)?)
            } else {
                let mut both = [Segment::default(), Segment::default()];
                both[Format::Classic.index()] = Segment::new(classic)?;
                both[Format::OpenMetrics.index()] = Segment::new(openmetrics)?;
                Header::PerFormat(both)
            })
        })
        .collect()
}

/// A target's rendered families, kept until its next cycle so that the segments that did
/// not change are reused.
#[derive(Clone, Debug)]
pub struct TargetRender {
    /// Per family, in exposition order (the per-pool ones, then the per-target ones),
    /// its segments.
    families: Vec<Vec<Block>>,
    /// Keys of the fingerprints, random per target so that no pool name or ARN can be
    /// crafted to collide with another.
    keys: RandomState,
    /// Bytes of text rendered to make this render; reused segments are not counted.
    rendered: usize,
}

#[derive(Clone, Debug)]
struct Block {
    fingerprint: u64,
    segment: Segment,
}

impl TargetRender {
    /// The segments of the `family`th family in exposition order.
    pub fn family(&self, family: usize) -> impl Iterator<Item = &Segment> + '_ {
        self.families
            .get(family)
            .into_iter()
            .flatten()
            .map(|b| &b.segment)
    }

    /// Every segment, family by family.
    pub fn segments(&self) -> impl Iterator<Item = &Segment> + '_ {
        self.families.iter().flatten().map(|b| &b.segment)
    }

    /// Bytes of text this render rendered (and compressed), reused segments excluded.
    pub fn rendered_bytes(&self) -> usize {
        self.rendered
    }

    /// Whether every segment has its text.
    pub(crate) fn has_text(&self) -> bool {
        self.segments().all(|s| s.is_empty() || s.text.is_some())
    }

    /// This render with every segment's text, inflated where it was dropped.
    pub fn with_text(&self) -> io::Result<Self> {
        let mut decompress = Decompress::new(false);
        let mut out = self.clone();
        for block in out.families.iter_mut().flatten() {
            if block.segment.text.is_none() && !block.segment.is_empty() {
                block.segment.text = Some(block.segment.inflated(&mut decompress)?);
            }
        }
        Ok(out)
    }
}

/// Renders the snapshot of target `id`, reusing from `previous` (the same target's last
/// render) every segment whose fingerprint is unchanged. With `keep_text`, every segment
/// keeps its text (inflated again where `previous` had dropped it); without, only the
/// deflate blocks are kept, a fifteenth of the size, for as long as no scrape asks for
/// the text.
pub fn render_target(
    id: &TargetId,
    snapshot: &TargetSnapshot,
    previous: Option<&TargetRender>,
    keep_text: bool,
) -> io::Result<TargetRender> {
    let count = POOL_FAMILIES.len() + TARGET_FAMILIES.len();
    let keys = previous.map_or_else(RandomState::new, |p| p.keys.clone());
    let old: Vec<HashMap<u64, &Segment>> = (0..count)
        .map(|family| {
            previous
                .and_then(|p| p.families.get(family))
                .into_iter()
                .flatten()
                .map(|b| (b.fingerprint, &b.segment))
                .collect()
        })
        .collect();
    let mut r = Renderer {
        keys,
        target: target_labels(id),
        keep_text,
        compress: None,
        decompress: None,
        text: String::new(),
        labels: String::new(),
        out: Vec::new(),
        rendered: 0,
    };
    // Sized to fit: kept until the next cycle, for every target, and a `Vec` grown one
    // push at a time holds room for four blocks where a small target has one.
    let pool_blocks: Vec<&[PoolRecord]> = blocks(&snapshot.pools).collect();
    let mut families: Vec<Vec<Block>> = (0..count)
        .map(|i| {
            Vec::with_capacity(if i < POOL_FAMILIES.len() {
                pool_blocks.len()
            } else {
                1
            })
        })
        .collect();
    for block in pool_blocks {
        for (i, family) in POOL_FAMILIES.iter().enumerate() {
            families[i].push(r.pools(family, block, &old[i])?);
        }
    }
    for (i, family) in TARGET_FAMILIES.iter().enumerate() {
        let i = POOL_FAMILIES.len() + i;
        families[i].push(r.target(family, snapshot, &old[i])?);
    }
    Ok(TargetRender {
        families,
        keys: r.keys,
        rendered: r.rendered,
    })
}

/// The text of every family of target `id`'s `snapshot`, without headers, in exposition
/// order: what [`render_target`] renders from nothing, without compressing it.
pub fn render_text(id: &TargetId, snapshot: &TargetSnapshot) -> String {
    let target = target_labels(id);
    let mut out = String::new();
    let mut labels = String::new();
    for family in &POOL_FAMILIES {
        render_pools(&mut out, &mut labels, &target, family, &snapshot.pools);
    }
    for family in &TARGET_FAMILIES {
        render_target_value(&mut out, &target, family, snapshot);
    }
    out
}

/// What a render needs between segments: the compressor (created on the first segment
/// that changed) and scratch buffers, reused from segment to segment.
struct Renderer {
    keys: RandomState,
    /// The target's labels, escaped.
    target: String,
    keep_text: bool,
    compress: Option<Compress>,
    decompress: Option<Decompress>,
    text: String,
    labels: String,
    out: Vec<u8>,
    rendered: usize,
}

impl Renderer {
    /// The segment of `family` for the pools of `block`.
    fn pools(
        &mut self,
        family: &'static PoolFamily,
        block: &[PoolRecord],
        old: &HashMap<u64, &Segment>,
    ) -> io::Result<Block> {
        let fingerprint = self.fingerprint(family.name, |h| {
            for pool in block {
                h.write(pool.id.as_bytes());
                h.write_u8(0xff);
                (family.fingerprint)(pool, h);
            }
        });
        self.block(fingerprint, old, |r| {
            render_pools(&mut r.text, &mut r.labels, &r.target, family, block);
        })
    }

    /// The segment of per-target `family`.
    fn target(
        &mut self,
        family: &'static TargetFamily,
        snapshot: &TargetSnapshot,
        old: &HashMap<u64, &Segment>,
    ) -> io::Result<Block> {
        let value = (family.value)(snapshot);
        let fingerprint = self.fingerprint(family.name, |h| h.write_u64(value.to_bits()));
        self.block(fingerprint, old, |r| {
            render_target_value(&mut r.text, &r.target, family, snapshot);
        })
    }

    fn fingerprint(&self, family: &str, values: impl FnOnce(&mut dyn Hasher)) -> u64 {
        let mut h = self.keys.build_hasher();
        h.write(family.as_bytes());
        h.write(self.target.as_bytes());
        values(&mut h);
        h.finish()
    }

    /// The block with `fingerprint`: reused from `old` when it is there, else rendered by
    /// `render` into the text buffer and compressed.
    fn block(
        &mut self,
        fingerprint: u64,
        old: &HashMap<u64, &Segment>,
        render: impl FnOnce(&mut Self),
    ) -> io::Result<Block> {
        let segment = match old.get(&fingerprint) {
            Some(&reused) => self.reuse(reused)?,
            None => {
                self.text.clear();
                render(self);
                self.segment()?
            }
        };
        Ok(Block {
            fingerprint,
            segment,
        })
    }
    /// Compresses the rendered `text` into a segment.
    fn segment(&mut self) -> io::Result<Segment> {
        let compress = self
            .compress
            .get_or_insert_with(|| Compress::new(Compression::default(), false));
        self.rendered += self.text.len();
        Segment::compressed(
            self.text.as_bytes(),
            compress,
            &mut self.out,
            self.keep_text,
        )
    }

    /// A segment of the previous render, with or without its text as this render keeps it.
    fn reuse(&mut self, segment: &Segment) -> io::Result<Segment> {
        let mut segment = segment.clone();
        if !self.keep_text {
            segment.text = None;
        } else if segment.text.is_none() && !segment.is_empty() {
            let decompress = self
                .decompress
                .get_or_insert_with(|| Decompress::new(false));
            segment.text = Some(segment.inflated(decompress)?);
        }
        Ok(segment)
    }
}

/// Cuts `pools` (sorted by ID) into blocks, each ending at a pool whose ID hashes to a
/// multiple of [`BLOCK_POOLS`], or at [`MAX_BLOCK_POOLS`] pools.
fn blocks(pools: &[PoolRecord]) -> impl Iterator<Item = &[PoolRecord]> + '_ {
    let mut rest = pools;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .iter()
            .take(MAX_BLOCK_POOLS)
            .position(|p| cut_hash(&p.id).is_multiple_of(BLOCK_POOLS))
            .map_or(rest.len().min(MAX_BLOCK_POOLS), |i| i + 1);
        let (block, tail) = rest.split_at(end);
        rest = tail;
        Some(block)
    })
}

/// FNV-1a with a final mix: fixed, so that the cuts are the same from run to run.
fn cut_hash(id: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^ (h >> 33)
}

/// `aws_account_id="…",aws_region="…"`.
fn target_labels(id: &TargetId) -> String {
    let mut target = String::new();
    push_label(&mut target, "aws_account_id", &id.account_id);
    target.push(',');
    push_label(&mut target, "aws_region", &id.region);
    target
}

/// Appends the lines of per-pool `family` for `pools` to `out`; `labels` is scratch.
fn render_pools(
    out: &mut String,
    labels: &mut String,
    target: &str,
    family: &PoolFamily,
    pools: &[PoolRecord],
) {
    for pool in pools {
        labels.clear();
        labels.push_str(target);
        labels.push(',');
        push_label(labels, "pool", &pool.id);
        (family.render)(&mut Samples::new(out, family.name, labels), pool);
    }
}

/// Appends the line of per-target `family` to `out`.
fn render_target_value(out: &mut String, target: &str, family: &TargetFamily, s: &TargetSnapshot) {
    Samples::new(out, family.name, target).sample(&[], (family.value)(s));
}

#[cfg(test)]
mod tests;
