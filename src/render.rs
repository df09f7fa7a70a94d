//! Renders a target's snapshot into exposition text and compresses it, once per change,
//! so that scrapes only hand out prepared bytes.
//!
//! Every family rendered here is a gauge, and gauge lines are the same in the Prometheus
//! text format 0.0.4 and in OpenMetrics 1.0; so one rendering serves both formats and no
//! format is held twice.
//!
//! A target's pools are cut into blocks (about [`BLOCK_POOLS`] pools each, cut where a
//! pool ID's hash says so, so that adding or removing a pool moves the cuts around it
//! only), and each per-pool family of each block is a separate [`Segment`]: the text, and
//! the same text as raw-deflate blocks ended by a full flush. A full flush byte-aligns the
//! output and forgets the history, so segments compressed at different times concatenate,
//! in any combination, into one valid deflate stream. Each segment carries a fingerprint
//! of what its lines are made of (a keyed hash of the pools' IDs and the values the family
//! shows); the next cycle re-renders only the segments whose fingerprint changed, and a
//! cycle that changed nothing renders and compresses nothing. A gzip body is then a
//! header, the cached segments, a small tail added per scrape and a trailer whose CRC is
//! combined from the segments' CRCs: nothing proportional to the pool count is rendered
//! or compressed per scrape.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::io;

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::model::{PoolRecord, TargetSnapshot};

/// The gauge families rendered per target, in exposition order.
pub const FAMILIES: [Family; 10] = [
    Family {
        name: "cognito_log_destination_configured",
        help: "Whether GetLogDeliveryConfiguration returns a LogConfigurations entry for this EventSource, LogLevel and destination (CloudWatchLogsConfiguration, S3Configuration or FirehoseConfiguration): 1 yes, 0 no; from a poll on an interval",
    },
    Family {
        name: "cognito_log_destination_info",
        help: "A log destination of the user pool, from GetLogDeliveryConfiguration LogConfigurations (LogGroupArn, BucketArn or StreamArn in the arn label); from a poll on an interval",
    },
    Family {
        name: "cognito_user_pool_info",
        help: "A user pool polled by the exporter, with UserPoolType.Name from ListUserPools or DescribeUserPool; from a poll on an interval",
    },
    Family {
        name: "cognito_pool_poll_success",
        help: "Whether the last GetLogDeliveryConfiguration call for the pool succeeded: 1 yes, 0 no; from a poll on an interval",
    },
    Family {
        name: "cognito_pool_last_success_timestamp_seconds",
        help: "Unix time of the last successful GetLogDeliveryConfiguration call for the pool; from a poll on an interval",
    },
    Family {
        name: "cognito_exporter_target_up",
        help: "Whether the last poll cycle of the target completed: ListUserPools (or DescribeUserPool) answered and at least one pool's GetLogDeliveryConfiguration did, 1 yes, 0 no; from a poll on an interval",
    },
    Family {
        name: "cognito_exporter_poll_duration_seconds",
        help: "Seconds the last poll cycle of the target took, all Cognito calls included; from a poll on an interval",
    },
    Family {
        name: "cognito_exporter_last_poll_timestamp_seconds",
        help: "Unix time the last poll cycle of the target ended; from a poll on an interval",
    },
    Family {
        name: "cognito_exporter_pools",
        help: "User pools the last poll cycle of the target covered, after the include and exclude filters; from a poll on an interval",
    },
    Family {
        name: "cognito_exporter_stale_pools",
        help: "User pools whose GetLogDeliveryConfiguration has failed for longer than poll.max_staleness (or never succeeded), so their log series are withheld; from a poll on an interval",
    },
];

/// The first this many entries of [`FAMILIES`] have a series per pool; the others one per
/// target.
pub const POOL_FAMILIES: usize = 5;

/// Pools per block, on average. One changed pool re-renders and recompresses its block
/// (about 200 KB of text at most, a millisecond or two); each block costs a few hundred
/// bytes of compression ratio (its history starts empty) and a slice in a scrape's
/// `writev`.
pub const BLOCK_POOLS: u64 = 256;
/// A block ends after this many pools whatever the IDs, so no block grows unbounded.
const MAX_BLOCK_POOLS: usize = 4 * BLOCK_POOLS as usize;

/// A metric family's name and help text.
#[derive(Debug)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
}

/// One piece of the exposition: its text (unless dropped, see [`render_target`]), the same
/// text deflated, and the CRC-32 and length the gzip trailer needs.
#[derive(Clone, Debug, Default)]
pub struct Segment {
    pub text: Option<Bytes>,
    pub deflated: Bytes,
    pub crc: u32,
    pub len: u64,
}

impl Segment {
    /// Compresses `text` into raw-deflate blocks ended by a full flush. Level 6: the text
    /// compresses about 20:1 and this runs once per change, never per scrape.
    pub fn new(text: Vec<u8>) -> io::Result<Self> {
        let mut compress = Compress::new(Compression::default(), false);
        let mut out = Vec::new();
        Self::compressed(&text, &mut compress, &mut out, true)
    }

    /// Compresses `text` with `compress`, whose history the full flush leaves empty again,
    /// using `out` as scratch space. The segment's buffers are allocated at their exact
    /// size: they live until the pools change.
    fn compressed(
        text: &[u8],
        compress: &mut Compress,
        out: &mut Vec<u8>,
        keep_text: bool,
    ) -> io::Result<Self> {
        if text.is_empty() {
            return Ok(Self::default());
        }
        out.clear();
        deflate_into(compress, text, FlushCompress::Full, out)?;
        Ok(Self {
            text: keep_text.then(|| Bytes::copy_from_slice(text)),
            deflated: Bytes::copy_from_slice(out),
            crc: crc32fast::hash(text),
            len: text.len() as u64,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The text: kept, or inflated from the deflate blocks.
    pub fn text(&self) -> io::Result<Bytes> {
        match &self.text {
            Some(text) => Ok(text.clone()),
            None => self.inflated(&mut Decompress::new(false)),
        }
    }

    /// Inflates the deflate blocks with `decompress` (reset first), checking the length
    /// and CRC.
    fn inflated(&self, decompress: &mut Decompress) -> io::Result<Bytes> {
        let len = usize::try_from(self.len).map_err(io::Error::other)?;
        let mut out = Vec::with_capacity(len);
        decompress.reset(false);
        while out.len() < len {
            let consumed = usize::try_from(decompress.total_in()).map_err(io::Error::other)?;
            let before = out.len();
            decompress
                .decompress_vec(&self.deflated[consumed..], &mut out, FlushDecompress::Sync)
                .map_err(io::Error::other)?;
            if out.len() == before {
                break;
            }
        }
        if out.len() != len || crc32fast::hash(&out) != self.crc {
            return Err(io::Error::other(
                "a cached segment does not inflate to its text",
            ));
        }
        Ok(Bytes::from(out))
    }
}

/// Deflates `input` as raw deflate, ended by `flush` (`Sync` or `Full` to continue the
/// stream with more blocks, `Finish` to end it).
pub fn deflate(input: &[u8], flush: FlushCompress, level: Compression) -> io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(input.len() / 8 + 64);
    deflate_into(&mut Compress::new(level, false), input, flush, &mut out)?;
    Ok(out)
}

/// Appends `input`, deflated by `compress` and ended by `flush`, to `out`.
fn deflate_into(
    compress: &mut Compress,
    input: &[u8],
    flush: FlushCompress,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let start = compress.total_in();
    out.reserve(input.len() / 8 + 64);
    loop {
        let consumed = usize::try_from(compress.total_in() - start).map_err(io::Error::other)?;
        let status = compress
            .compress_vec(&input[consumed..], out, flush)
            .map_err(io::Error::other)?;
        let all_in = compress.total_in() - start == input.len() as u64;
        let done = match flush {
            FlushCompress::Finish => status == Status::StreamEnd,
            // A flush is complete once the compressor stops filling the whole buffer.
            _ => all_in && out.len() < out.capacity(),
        };
        if done {
            return Ok(());
        }
        out.reserve(out.capacity().max(4096));
    }
}

/// The HELP and TYPE header of every per-target family, one segment each.
pub fn family_headers() -> io::Result<Vec<Segment>> {
    FAMILIES
        .iter()
        .map(|f| {
            Segment::new(
                format!("# HELP {} {}\n# TYPE {} gauge\n", f.name, f.help, f.name).into_bytes(),
            )
        })
        .collect()
}

/// A target's rendered families, kept until its next cycle so that the segments that did
/// not change are reused.
#[derive(Clone, Debug)]
pub struct TargetRender {
    /// Per entry of [`FAMILIES`], its segments in exposition order.
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
    /// The segments of `FAMILIES[family]`, in exposition order.
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
    pub fn has_text(&self) -> bool {
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

/// Renders `snapshot`, reusing from `previous` (the same target's last render) every
/// segment whose fingerprint is unchanged. With `keep_text`, every segment keeps its text
/// (inflated again where `previous` had dropped it); without, only the deflate blocks are
/// kept, a fifteenth of the size, for as long as no scrape asks for the text.
pub fn render_target(
    snapshot: &TargetSnapshot,
    previous: Option<&TargetRender>,
    keep_text: bool,
) -> io::Result<TargetRender> {
    let keys = previous.map_or_else(RandomState::new, |p| p.keys.clone());
    let old: Vec<HashMap<u64, &Segment>> = (0..FAMILIES.len())
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
        target: target_labels(snapshot),
        keep_text,
        compress: None,
        decompress: None,
        text: String::new(),
        out: Vec::new(),
        rendered: 0,
    };
    let mut families: Vec<Vec<Block>> = vec![Vec::new(); FAMILIES.len()];
    for block in blocks(&snapshot.pools) {
        for (family, blocks) in families.iter_mut().enumerate().take(POOL_FAMILIES) {
            blocks.push(r.block(
                family,
                &old[family],
                |h| hash_pools(family, block, h),
                |out, target| render_pools(out, target, family, block),
            )?);
        }
    }
    for (family, blocks) in families.iter_mut().enumerate().skip(POOL_FAMILIES) {
        blocks.push(r.block(
            family,
            &old[family],
            |h| hash_target_value(family, snapshot, h),
            |out, target| render_target_value(out, target, family, snapshot),
        )?);
    }
    Ok(TargetRender {
        families,
        keys: r.keys,
        rendered: r.rendered,
    })
}

/// The text of every family of `snapshot`, without headers, in exposition order: what
/// [`render_target`] renders from nothing, without compressing it.
pub fn render_text(snapshot: &TargetSnapshot) -> String {
    let target = target_labels(snapshot);
    let mut out = String::new();
    for family in 0..FAMILIES.len() {
        if family < POOL_FAMILIES {
            render_pools(&mut out, &target, family, &snapshot.pools);
        } else {
            render_target_value(&mut out, &target, family, snapshot);
        }
    }
    out
}

/// What a render needs between segments: the compressor (created on the first segment
/// that changed) and scratch buffers, reused from segment to segment.
struct Renderer {
    keys: RandomState,
    target: String,
    keep_text: bool,
    compress: Option<Compress>,
    decompress: Option<Decompress>,
    text: String,
    out: Vec<u8>,
    rendered: usize,
}

impl Renderer {
    fn fingerprint(&self, family: usize, values: impl FnOnce(&mut dyn Hasher)) -> u64 {
        let mut h = self.keys.build_hasher();
        h.write_usize(family);
        h.write(self.target.as_bytes());
        values(&mut h);
        h.finish()
    }

    /// The block of `family` whose values `hash` feeds: reused from `old` when its
    /// fingerprint is there, else rendered by `render` (given the text buffer and the
    /// target's labels) and compressed.
    fn block(
        &mut self,
        family: usize,
        old: &HashMap<u64, &Segment>,
        hash: impl FnOnce(&mut dyn Hasher),
        render: impl FnOnce(&mut String, &str),
    ) -> io::Result<Block> {
        let fingerprint = self.fingerprint(family, hash);
        let segment = match old.get(&fingerprint) {
            Some(&reused) => self.reuse(reused)?,
            None => {
                self.text.clear();
                render(&mut self.text, &self.target);
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

/// Feeds `h` everything family `family`'s lines for `pools` are made of.
fn hash_pools(family: usize, pools: &[PoolRecord], h: &mut dyn Hasher) {
    for pool in pools {
        h.write(pool.id.as_bytes());
        h.write_u8(0xff);
        match family {
            0 | 1 => match &pool.delivery {
                None => h.write_u8(0),
                Some(delivery) => {
                    h.write_u8(1);
                    h.write_usize(delivery.destinations().len());
                    for d in delivery.destinations() {
                        h.write_u8(d.source as u8);
                        h.write_u8(d.level as u8);
                        h.write_u8(d.kind as u8);
                        h.write(d.arn.as_bytes());
                        h.write_u8(0xff);
                    }
                }
            },
            2 => {
                h.write(pool.name.as_bytes());
                h.write_u8(0xff);
            }
            3 => h.write_u8(u8::from(pool.success)),
            _ => match pool.last_success {
                None => h.write_u8(0),
                Some(at) => {
                    h.write_u8(1);
                    h.write_u64(at.to_bits());
                }
            },
        }
    }
}

fn hash_target_value(family: usize, snapshot: &TargetSnapshot, h: &mut dyn Hasher) {
    match family {
        5 => h.write_u8(u8::from(snapshot.up)),
        6 => h.write_u64(snapshot.duration_seconds.to_bits()),
        7 => h.write_u64(snapshot.finished_at.to_bits()),
        8 => h.write_usize(snapshot.pools.len()),
        _ => h.write_usize(snapshot.stale_pools()),
    }
}

/// `aws_account_id="…",aws_region="…"`.
fn target_labels(snapshot: &TargetSnapshot) -> String {
    let mut target = String::new();
    push_label(&mut target, "aws_account_id", &snapshot.account_id);
    target.push(',');
    push_label(&mut target, "aws_region", &snapshot.region);
    target
}

/// Appends the lines of per-pool family `family` for `pools` to `out`.
fn render_pools(out: &mut String, target: &str, family: usize, pools: &[PoolRecord]) {
    let name = FAMILIES[family].name;
    let mut labels = String::with_capacity(target.len() + 48);
    for pool in pools {
        labels.clear();
        labels.push_str(target);
        labels.push(',');
        push_label(&mut labels, "pool", &pool.id);
        match family {
            0 => {
                for ((source, level, kind), on) in pool.delivery.iter().flat_map(|d| d.matrix()) {
                    let _ = writeln!(
                        out,
                        "{name}{{{labels},source=\"{}\",level=\"{}\",kind=\"{}\"}} {}",
                        source.as_str(),
                        level.as_str(),
                        kind.as_str(),
                        u8::from(on)
                    );
                }
            }
            1 => {
                for d in pool.delivery.iter().flat_map(|d| d.destinations()) {
                    let _ = write!(
                        out,
                        "{name}{{{labels},source=\"{}\",level=\"{}\",kind=\"{}\",",
                        d.source.as_str(),
                        d.level.as_str(),
                        d.kind.as_str()
                    );
                    push_label(out, "arn", &d.arn);
                    out.push_str("} 1\n");
                }
            }
            2 => {
                let _ = write!(out, "{name}{{{labels},");
                push_label(out, "name", &pool.name);
                out.push_str("} 1\n");
            }
            3 => {
                let _ = writeln!(out, "{name}{{{labels}}} {}", u8::from(pool.success));
            }
            _ => {
                if let Some(at) = pool.last_success {
                    let _ = writeln!(out, "{name}{{{labels}}} {at}");
                }
            }
        }
    }
}

/// Appends the line of per-target family `family` to `out`.
fn render_target_value(out: &mut String, target: &str, family: usize, s: &TargetSnapshot) {
    let name = FAMILIES[family].name;
    let _ = match family {
        5 => writeln!(out, "{name}{{{target}}} {}", u8::from(s.up)),
        6 => writeln!(out, "{name}{{{target}}} {}", s.duration_seconds),
        7 => writeln!(out, "{name}{{{target}}} {}", s.finished_at),
        8 => writeln!(out, "{name}{{{target}}} {}", s.pools.len()),
        _ => writeln!(out, "{name}{{{target}}} {}", s.stale_pools()),
    };
}

/// Appends `name="value"` with the value escaped as both text formats require.
pub fn push_label(out: &mut String, name: &str, value: &str) {
    out.push_str(name);
    out.push_str("=\"");
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::Arc;

    use super::*;
    use crate::model::{Destination, Kind, Level, LogDelivery, PoolRecord, Source};

    fn snapshot() -> TargetSnapshot {
        TargetSnapshot {
            account_id: "123456789012".into(),
            region: "eu-west-1".into(),
            up: true,
            duration_seconds: 0.25,
            finished_at: 1_700_000_000.5,
            pools: vec![
                PoolRecord {
                    id: Arc::from("eu-west-1_A"),
                    name: Arc::from("prod \"main\""),
                    delivery: Some(LogDelivery::new(vec![Destination {
                        source: Source::UserNotification,
                        level: Level::Error,
                        kind: Kind::CloudwatchLogs,
                        arn: "arn:aws:logs:eu-west-1:123456789012:log-group:errors".into(),
                    }])),
                    success: true,
                    last_success: Some(1_700_000_000.0),
                },
                PoolRecord {
                    id: Arc::from("eu-west-1_B"),
                    name: Arc::from("gone"),
                    delivery: None,
                    success: false,
                    last_success: None,
                },
            ],
        }
    }

    /// `n` pools in a mix of configurations, sorted by ID as snapshots are.
    pub(crate) fn big(n: usize) -> TargetSnapshot {
        let mut s = snapshot();
        s.pools = (0..n)
            .map(|i| PoolRecord {
                id: Arc::from(format!("eu-west-1_{i:09}")),
                name: Arc::from(format!("pool-{i}")),
                delivery: Some(LogDelivery::new(
                    (0..i % 3)
                        .map(|k| Destination {
                            source: Source::UserAuthEvents,
                            level: Level::Info,
                            kind: Kind::ALL[k],
                            arn: format!("arn:aws:s3:::bucket-{i}-{k}"),
                        })
                        .collect(),
                )),
                success: true,
                last_success: Some(1_700_000_000.0),
            })
            .collect();
        s
    }

    fn text<'a>(segments: impl Iterator<Item = &'a Segment>) -> String {
        segments
            .map(|s| String::from_utf8_lossy(&s.text().expect("text")).into_owned())
            .collect()
    }

    fn inflate(deflated: &[u8]) -> String {
        let mut stream = deflated.to_vec();
        stream
            .extend(deflate(b"# EOF\n", FlushCompress::Finish, Compression::fast()).expect("tail"));
        let mut plain = String::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_string(&mut plain)
            .expect("inflate");
        plain.strip_suffix("# EOF\n").expect("tail").to_string()
    }

    #[test]
    fn renders_matrix_info_and_target_series() {
        let out = render_text(&snapshot());
        let labels = r#"aws_account_id="123456789012",aws_region="eu-west-1",pool="eu-west-1_A""#;
        for line in [
            format!(r#"cognito_log_destination_configured{{{labels},source="userNotification",level="ERROR",kind="cloudwatch_logs"}} 1"#),
            format!(r#"cognito_log_destination_configured{{{labels},source="userAuthEvents",level="INFO",kind="s3"}} 0"#),
            format!(r#"cognito_log_destination_info{{{labels},source="userNotification",level="ERROR",kind="cloudwatch_logs",arn="arn:aws:logs:eu-west-1:123456789012:log-group:errors"}} 1"#),
            format!(r#"cognito_user_pool_info{{{labels},name="prod \"main\""}} 1"#),
            format!("cognito_pool_poll_success{{{labels}}} 1"),
            format!("cognito_pool_last_success_timestamp_seconds{{{labels}}} 1700000000"),
            r#"cognito_exporter_stale_pools{aws_account_id="123456789012",aws_region="eu-west-1"} 1"#.to_string(),
            r#"cognito_exporter_pools{aws_account_id="123456789012",aws_region="eu-west-1"} 2"#.to_string(),
        ] {
            assert!(out.lines().any(|l| l == line), "missing {line}\n{out}");
        }
        // A stale pool keeps its identity series but no log series.
        assert!(!out.contains(r#"pool="eu-west-1_B",source"#));
        assert!(out.contains(r#"cognito_pool_poll_success{aws_account_id="123456789012",aws_region="eu-west-1",pool="eu-west-1_B"} 0"#));
        let rendered = render_target(&snapshot(), None, true).expect("render");
        assert_eq!(text(rendered.segments()), out);
    }

    #[test]
    fn many_pools_are_cut_into_blocks_that_render_the_same_text() {
        let s = big(3000);
        let rendered = render_target(&s, None, true).expect("render");
        let blocks = rendered.family(0).count();
        assert!((4..=40).contains(&blocks), "{blocks} blocks");
        assert_eq!(text(rendered.segments()), render_text(&s));
        assert_eq!(rendered.rendered_bytes(), render_text(&s).len());
    }

    #[test]
    fn segments_concatenate_into_one_deflate_stream_in_any_order() {
        // Full flushes forget the history: segments of different renders, and the
        // same segments reordered, still inflate to their texts.
        let a = render_target(&big(1500), None, false).expect("render");
        let b = render_target(&snapshot(), None, true).expect("render");
        let mut pieces: Vec<&Segment> = a.segments().chain(b.segments()).collect();
        pieces.reverse();
        pieces.swap(1, 7);
        let stream: Vec<u8> = pieces.iter().flat_map(|s| s.deflated.to_vec()).collect();
        assert_eq!(inflate(&stream), text(pieces.into_iter()));
    }

    #[test]
    fn nothing_changed_renders_nothing() {
        let s = big(2000);
        let first = render_target(&s, None, true).expect("render");
        let again = render_target(&s, Some(&first), true).expect("render");
        assert_eq!(again.rendered_bytes(), 0);
        assert_eq!(text(again.segments()), text(first.segments()));
    }

    #[test]
    fn a_changed_pool_re_renders_its_block_only() {
        let mut s = big(5000);
        let first = render_target(&s, None, true).expect("render");
        s.pools[2500].delivery = Some(LogDelivery::default());
        s.pools[4000].name = Arc::from("renamed");
        let again = render_target(&s, Some(&first), true).expect("render");
        let total = render_text(&s).len();
        assert!(
            again.rendered_bytes() * 10 < total,
            "{} of {total} bytes rendered",
            again.rendered_bytes()
        );
        assert_eq!(text(again.segments()), render_text(&s));
        let deflated: Vec<u8> = again.segments().flat_map(|s| s.deflated.to_vec()).collect();
        assert_eq!(inflate(&deflated), render_text(&s));
    }

    #[test]
    fn an_added_pool_moves_the_cuts_around_it_only() {
        let mut s = big(5000);
        let first = render_target(&s, None, true).expect("render");
        let mut added = s.pools[1000].clone();
        added.id = Arc::from("eu-west-1_000001000a");
        s.pools.insert(1001, added);
        let again = render_target(&s, Some(&first), true).expect("render");
        assert!(again.rendered_bytes() * 10 < render_text(&s).len());
        assert_eq!(text(again.segments()), render_text(&s));
    }

    #[test]
    fn dropped_text_inflates_back() {
        let s = big(3000);
        let lean = render_target(&s, None, false).expect("render");
        assert!(!lean.has_text());
        assert!(lean.segments().all(|seg| seg.text.is_none()));
        assert_eq!(
            text(lean.with_text().expect("inflate").segments()),
            render_text(&s)
        );
        let again = render_target(&s, Some(&lean), true).expect("render");
        assert!(again.has_text());
        assert_eq!(again.rendered_bytes(), 0);
        assert_eq!(text(again.segments()), render_text(&s));
    }

    #[test]
    fn label_values_are_escaped() {
        let mut s = String::new();
        push_label(&mut s, "name", "a\\b\"c\nd");
        assert_eq!(s, r#"name="a\\b\"c\nd""#);
    }
}
