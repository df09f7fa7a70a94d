//! The latest rendered exposition of every target, assembled into the body a scrape
//! serves.
//!
//! A poller [`Exposition::publish`]es its target's snapshot when a cycle ends: the
//! snapshot is rendered outside any lock, re-rendering only what changed since the
//! target's last render, then every target's segments are re-assembled into the list of
//! shared text chunks and the single gzip buffer a scrape serves, and swapped in whole. A
//! scrape loads the current assembly (one atomic load), encodes the exporter's own
//! metrics as a small tail, and hands out the chunks without copying them: its
//! [`Body`] is one `Buf` that gives the writer every chunk at once, so a whole body goes
//! out in a few `writev` calls.
//!
//! The text is kept only while someone scrapes without gzip. Prometheus always asks for
//! gzip, and the text is fifteen times the size of its deflate blocks (13 MB against
//! 0.7 MB at 10,000 pools): the first uncompressed scrape inflates it from the blocks
//! (tens of milliseconds at 10,000 pools), and renders keep it from then on until
//! [`KEEP_TEXT`] passes without an uncompressed scrape.

use std::collections::BTreeMap;
use std::io::{self, IoSlice};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::{Buf, Bytes, BytesMut};

use crate::model::TargetSnapshot;
use crate::render::{self, Segment, TargetRender};
use crate::selfmetrics::SelfMetrics;

/// Which text format a scrape asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Classic,
    /// OpenMetrics 1.0.
    OpenMetrics,
}

impl Format {
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Classic => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Identifies a target: its account and region.
pub type TargetKey = (String, String);

/// The per-target families of all targets, interleaved so each family is contiguous.
#[derive(Debug, Default)]
struct Assembly {
    /// The text, as the targets' segments (shared with their renders, not copied); none
    /// while the renders have dropped it.
    text: Option<Vec<Bytes>>,
    /// The gzip header and every segment's deflate blocks, copied into one buffer at
    /// publish (it is small) so that a gzip scrape is one slice, not hundreds.
    gzip: Bytes,
    /// CRC-32 and length of the concatenated text, for the gzip trailer.
    crc: crc32fast::Hasher,
    len: u64,
}

/// Holds what scrapes serve; shared by the pollers and the HTTP server.
#[derive(Debug)]
pub struct Exposition {
    headers: Vec<Segment>,
    targets: Mutex<BTreeMap<TargetKey, Arc<TargetRender>>>,
    current: ArcSwap<Assembly>,
    self_metrics: SelfMetrics,
    /// When the last uncompressed scrape came, in milliseconds after `epoch`, plus one;
    /// zero if none has.
    plain_scraped: AtomicU64,
    epoch: Instant,
    /// The last encoding of the exporter's own metrics per format and encoding.
    tails: Mutex<[Option<CachedTail>; 4]>,
}

/// How long the text is kept after an uncompressed scrape.
pub const KEEP_TEXT: Duration = Duration::from_secs(15 * 60);

impl Exposition {
    pub fn new(self_metrics: SelfMetrics) -> io::Result<Self> {
        let exposition = Self {
            headers: render::family_headers()?,
            targets: Mutex::default(),
            current: ArcSwap::default(),
            self_metrics,
            plain_scraped: AtomicU64::new(0),
            epoch: Instant::now(),
            tails: Mutex::default(),
        };
        exposition.reassemble(&BTreeMap::new(), None);
        Ok(exposition)
    }

    pub fn self_metrics(&self) -> &SelfMetrics {
        &self.self_metrics
    }

    /// Replaces a target's series with those of `snapshot`. When the key changes (the
    /// account ID became known), pass the previous key as `replaces` so its series go.
    /// Returns the bytes of text rendered: none when nothing changed.
    pub fn publish(
        &self,
        snapshot: &TargetSnapshot,
        replaces: Option<&TargetKey>,
    ) -> io::Result<usize> {
        let key = (snapshot.account_id.clone(), snapshot.region.clone());
        let previous = self.lock().get(&key).cloned();
        let rendered = render::render_target(snapshot, previous.as_deref(), self.keep_text())?;
        drop(previous);
        let bytes = rendered.rendered_bytes();
        let mut targets = self.lock();
        if let Some(old) = replaces.filter(|old| **old != key) {
            targets.remove(old);
        }
        targets.insert(key, Arc::new(rendered));
        self.reassemble(&targets, None);
        Ok(bytes)
    }

    /// Drops a target's series.
    pub fn remove(&self, key: &TargetKey) {
        let mut targets = self.lock();
        targets.remove(key);
        self.reassemble(&targets, None);
    }

    /// Whether an uncompressed scrape came within [`KEEP_TEXT`].
    fn keep_text(&self) -> bool {
        match self.plain_scraped.load(Ordering::Relaxed) {
            0 => false,
            at => {
                let since = self
                    .epoch
                    .elapsed()
                    .as_millis()
                    .saturating_sub(u128::from(at - 1));
                since < KEEP_TEXT.as_millis()
            }
        }
    }

    /// The current assembly, with its text inflated if the renders had dropped it.
    fn with_text(&self) -> io::Result<Arc<Assembly>> {
        let now = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX - 1);
        self.plain_scraped.store(now + 1, Ordering::Relaxed);
        let current = self.current.load_full();
        if current.text.is_some() {
            return Ok(current);
        }
        let mut targets = self.lock();
        // Another scrape may have inflated it while this one waited for the lock.
        let current = self.current.load_full();
        if current.text.is_some() {
            return Ok(current);
        }
        for render in targets.values_mut() {
            if !render.has_text() {
                *render = Arc::new(render.with_text()?);
            }
        }
        // The deflate blocks did not change: the gzip buffer scrapes are sending is kept.
        self.reassemble(&targets, Some(current.gzip.clone()));
        Ok(self.current.load_full())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<TargetKey, Arc<TargetRender>>> {
        self.targets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Assembles what scrapes serve from `targets`; `gzip`, when given, is the gzip buffer
    /// of the same segments, assembled before.
    fn reassemble(&self, targets: &BTreeMap<TargetKey, Arc<TargetRender>>, gzip: Option<Bytes>) {
        let mut assembly = Assembly::default();
        let mut text = Some(Vec::new());
        let mut deflated = 0;
        for segment in segments(&self.headers, targets) {
            match (&mut text, &segment.text) {
                (Some(list), Some(t)) => list.push(t.clone()),
                _ => text = None,
            }
            assembly.len += segment.len();
            assembly
                .crc
                .combine(&crc32fast::Hasher::new_with_initial_len(
                    segment.crc,
                    segment.len(),
                ));
            deflated += segment.deflated.len();
        }
        assembly.gzip = gzip.unwrap_or_else(|| {
            let mut gzip = BytesMut::with_capacity(GZIP_HEADER.len() + deflated);
            gzip.extend_from_slice(&GZIP_HEADER);
            for segment in segments(&self.headers, targets) {
                gzip.extend_from_slice(&segment.deflated);
            }
            gzip.freeze()
        });
        debug_assert_eq!(assembly.gzip.len(), GZIP_HEADER.len() + deflated);
        assembly.text = text;
        self.current.store(Arc::new(assembly));
    }

    /// The body of a scrape in `format`, gzip-compressed when `gzip`.
    pub fn body(&self, format: Format, gzip: bool) -> io::Result<Body> {
        let assembly = if gzip {
            self.current.load_full()
        } else {
            self.with_text()?
        };
        let tail = self.tail(format, gzip, &assembly)?;
        let pieces = if gzip {
            1
        } else {
            assembly.text.as_ref().map_or(0, Vec::len)
        };
        let remaining = if gzip {
            assembly.gzip.len()
        } else {
            usize::try_from(assembly.len).map_err(io::Error::other)?
        } + tail.len();
        let mut body = Body {
            assembly,
            gzip,
            pieces,
            tail,
            index: 0,
            offset: 0,
            remaining,
        };
        body.skip_empty();
        Ok(body)
    }

    /// The exporter's own metrics in `format`, framed for `gzip` after `assembly`: encoded
    /// again once [`TAIL_TTL`] has passed or the assembly changed, else reused.
    fn tail(&self, format: Format, gzip: bool, assembly: &Arc<Assembly>) -> io::Result<Bytes> {
        let slot = 2 * usize::from(format == Format::OpenMetrics) + usize::from(gzip);
        let mut tails = self.tails.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(cached) = &tails[slot]
            && cached.at.elapsed() < TAIL_TTL
            && Weak::as_ptr(&cached.assembly) == Arc::as_ptr(assembly)
        {
            return Ok(cached.bytes.clone());
        }
        let mut text = String::with_capacity(TAIL_CAPACITY);
        let encoded = match format {
            Format::Classic => self.self_metrics.encode_classic(&mut text),
            Format::OpenMetrics => self.self_metrics.encode_openmetrics(&mut text),
        };
        encoded.map_err(|_| io::Error::other("encoding the exporter's own metrics failed"))?;
        let bytes = if gzip {
            gzip_tail(assembly, text.as_bytes())
        } else {
            Bytes::from(text)
        };
        tails[slot] = Some(CachedTail {
            assembly: Arc::downgrade(assembly),
            at: Instant::now(),
            bytes: bytes.clone(),
        });
        Ok(bytes)
    }
}

/// How long an encoding of the exporter's own metrics is reused. Encoding them reads
/// /proc, about 40 µs, more than serving the rest of a gzip body: in a burst of scrapes,
/// those within a second share one encoding, while a scraper at any usual interval gets
/// a fresh one. A new assembly (a cycle's end) renews it too.
pub const TAIL_TTL: Duration = Duration::from_secs(1);

/// One encoding of the exporter's own metrics.
#[derive(Debug)]
struct CachedTail {
    /// The assembly it follows: a gzip tail's trailer covers the whole body. Weak, so it
    /// keeps no body alive; its allocation stays, so no new assembly takes its address.
    assembly: Weak<Assembly>,
    at: Instant,
    bytes: Bytes,
}

/// Every target's segments in exposition order: family by family, each family's header
/// then its segments of every target.
fn segments<'a>(
    headers: &'a [Segment],
    targets: &'a BTreeMap<TargetKey, Arc<TargetRender>>,
) -> impl Iterator<Item = &'a Segment> + 'a {
    headers
        .iter()
        .enumerate()
        .flat_map(move |(family, header)| {
            std::iter::once(header).chain(targets.values().flat_map(move |t| t.family(family)))
        })
        .filter(|s| !s.is_empty())
}

/// Room for the exporter's own metrics of a few targets without growing the string.
const TAIL_CAPACITY: usize = 4096;

/// Magic, deflate, no flags, no mtime, no extra flags, OS unknown (RFC 1952).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// The end of a gzip body: `tail` as stored (uncompressed) deflate blocks, the last one
/// final, then the trailer. The cached blocks end byte-aligned, so a stored block can
/// follow them; it costs no compressor (whose state is a few hundred kilobytes to set
/// up) for a tail of a few kilobytes.
fn gzip_tail(assembly: &Assembly, tail: &[u8]) -> Bytes {
    const MAX_STORED: usize = 65_535;
    let blocks = tail.len().div_ceil(MAX_STORED).max(1);
    let mut out = Vec::with_capacity(tail.len() + 5 * blocks + 8);
    let mut pieces = tail.chunks(MAX_STORED).peekable();
    if tail.is_empty() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(piece) = pieces.next() {
        let len = u16::try_from(piece.len()).unwrap_or(u16::MAX);
        out.push(u8::from(pieces.peek().is_none()));
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(piece);
    }
    let mut crc = assembly.crc.clone();
    crc.combine(&{
        let mut h = crc32fast::Hasher::new();
        h.update(tail);
        h
    });
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    // ISIZE is the length modulo 2^32, as RFC 1952 defines it.
    let total = assembly.len + tail.len() as u64;
    out.extend_from_slice(&(total as u32).to_le_bytes());
    Bytes::from(out)
}

/// The body of one scrape: the assembly's chunks, then the tail. A `Buf` whose
/// `chunks_vectored` lists every remaining chunk, so the HTTP writer sends many chunks
/// per `writev` and nothing is copied; it keeps the assembly it was built from alive
/// until it has been sent.
#[derive(Debug)]
pub struct Body {
    assembly: Arc<Assembly>,
    gzip: bool,
    /// Chunks before the tail: the text segments, or the one gzip buffer.
    pieces: usize,
    tail: Bytes,
    /// The current chunk (`pieces` is the tail) and the position in it.
    index: usize,
    offset: usize,
    remaining: usize,
}

impl Body {
    /// Bytes left to send.
    pub fn len(&self) -> u64 {
        self.remaining as u64
    }

    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    fn piece(&self, index: usize) -> &[u8] {
        if index == self.pieces {
            &self.tail
        } else if index > self.pieces {
            &[]
        } else if self.gzip {
            &self.assembly.gzip
        } else {
            self.assembly
                .text
                .as_ref()
                .and_then(|t| t.get(index))
                .map_or(&[], |b| &b[..])
        }
    }

    /// Moves past exhausted chunks, so `chunk` is empty only at the end.
    fn skip_empty(&mut self) {
        while self.index <= self.pieces && self.offset >= self.piece(self.index).len() {
            self.index += 1;
            self.offset = 0;
        }
    }
}

impl Buf for Body {
    fn remaining(&self) -> usize {
        self.remaining
    }

    fn chunk(&self) -> &[u8] {
        &self.piece(self.index)[self.offset..]
    }

    fn advance(&mut self, mut cnt: usize) {
        assert!(cnt <= self.remaining, "advance past the end of a body");
        self.remaining -= cnt;
        while cnt > 0 {
            let left = self.piece(self.index).len() - self.offset;
            let step = left.min(cnt);
            self.offset += step;
            cnt -= step;
            self.skip_empty();
        }
        self.skip_empty();
    }

    fn chunks_vectored<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        let mut index = self.index;
        let mut offset = self.offset;
        while n < dst.len() && index <= self.pieces {
            let piece = &self.piece(index)[offset..];
            if !piece.is_empty() {
                dst[n] = IoSlice::new(piece);
                n += 1;
            }
            index += 1;
            offset = 0;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::model::PoolRecord;

    fn snapshot(region: &str, pools: usize) -> TargetSnapshot {
        TargetSnapshot {
            account_id: "123456789012".into(),
            region: region.into(),
            up: true,
            duration_seconds: 1.0,
            finished_at: 2.0,
            pools: (0..pools)
                .map(|i| PoolRecord {
                    id: Arc::from(format!("{region}_{i}")),
                    name: Arc::from(format!("pool-{i}")),
                    delivery: Some(Default::default()),
                    success: true,
                    last_success: Some(2.0),
                })
                .collect(),
        }
    }

    /// Drains `body` as a writer would: a few slices per call, and partial writes that
    /// stop inside a chunk.
    fn concat(mut body: Body) -> Vec<u8> {
        let declared = body.len();
        let mut out = Vec::new();
        while body.has_remaining() {
            let written = {
                let mut iovs = [IoSlice::new(&[]); 3];
                let n = body.chunks_vectored(&mut iovs);
                let all: Vec<u8> = iovs[..n].iter().flat_map(|s| s.iter().copied()).collect();
                let take = if all.len() > 7 {
                    all.len() - 7
                } else {
                    all.len()
                };
                out.extend_from_slice(&all[..take]);
                take
            };
            body.advance(written);
        }
        assert_eq!(out.len() as u64, declared, "the length the body declared");
        out
    }

    fn gunzip(gz: &[u8]) -> Vec<u8> {
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut inflated)
            .expect("a valid gzip stream, CRC and length included");
        inflated
    }

    /// A body up to the exporter's own metrics, whose process_* values may differ
    /// between two scrapes.
    fn up_to_own_metrics(body: &[u8]) -> String {
        let s = String::from_utf8_lossy(body).into_owned();
        let end = s
            .find("# HELP cognito_exporter_build_info")
            .unwrap_or_else(|| panic!("no own metrics in {}", &s[s.len().saturating_sub(1500)..]));
        s[..end].to_string()
    }

    #[test]
    fn gzip_body_inflates_to_the_plain_body() {
        let exposition = Exposition::new(SelfMetrics::new("0", "x")).expect("new");
        exposition
            .publish(&snapshot("eu-west-1", 3), None)
            .expect("publish");
        exposition
            .publish(&snapshot("us-east-1", 2), None)
            .expect("publish");
        let gz = concat(exposition.body(Format::OpenMetrics, true).expect("gzip"));
        let plain = concat(exposition.body(Format::OpenMetrics, false).expect("plain"));
        let inflated = gunzip(&gz);
        assert_eq!(up_to_own_metrics(&inflated), up_to_own_metrics(&plain));
        assert!(String::from_utf8_lossy(&inflated).ends_with("# EOF\n"));
    }

    #[test]
    fn families_stay_contiguous_across_targets() {
        let exposition = Exposition::new(SelfMetrics::new("0", "x")).expect("new");
        exposition
            .publish(&snapshot("eu-west-1", 1), None)
            .expect("publish");
        exposition
            .publish(&snapshot("us-east-1", 1), None)
            .expect("publish");
        let text = String::from_utf8(concat(
            exposition.body(Format::Classic, false).expect("body"),
        ))
        .expect("utf-8");
        let families: Vec<&str> = text
            .lines()
            .filter(|l| !l.starts_with('#'))
            .map(|l| l.split(['{', ' ']).next().unwrap_or(""))
            .collect();
        let mut seen: Vec<&str> = Vec::new();
        for f in families {
            if seen.last() != Some(&f) {
                assert!(!seen.contains(&f), "{f} is split\n{text}");
                seen.push(f);
            }
        }
    }

    #[test]
    fn a_target_re_keyed_by_its_account_leaves_no_series_behind() {
        let exposition = Exposition::new(SelfMetrics::new("0", "x")).expect("new");
        let mut s = snapshot("eu-west-1", 1);
        s.account_id = String::new();
        exposition.publish(&s, None).expect("publish");
        let old = (String::new(), "eu-west-1".to_string());
        exposition
            .publish(&snapshot("eu-west-1", 1), Some(&old))
            .expect("publish");
        let text = String::from_utf8(concat(
            exposition.body(Format::Classic, false).expect("body"),
        ))
        .expect("utf-8");
        assert!(!text.contains("aws_account_id=\"\""), "{text}");
    }

    #[test]
    fn a_large_gzip_body_inflates_with_its_crc() {
        let exposition = Exposition::new(SelfMetrics::new("0", "x")).expect("new");
        exposition
            .publish(&snapshot("eu-west-1", 3000), None)
            .expect("publish");
        let gz = concat(exposition.body(Format::Classic, true).expect("gzip"));
        let plain = concat(exposition.body(Format::Classic, false).expect("plain"));
        assert!(
            gz.len() * 10 < plain.len(),
            "{} of {}",
            gz.len(),
            plain.len()
        );
        assert_eq!(up_to_own_metrics(&gunzip(&gz)), up_to_own_metrics(&plain));
    }

    #[test]
    fn a_tail_longer_than_a_stored_block_still_inflates() {
        let assembly = Assembly {
            gzip: Bytes::from_static(&GZIP_HEADER),
            ..Assembly::default()
        };
        let tail = "x".repeat(150_000);
        let mut gz = assembly.gzip.to_vec();
        gz.extend_from_slice(&gzip_tail(&assembly, tail.as_bytes()));
        let mut inflated = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut inflated)
            .expect("inflate");
        assert_eq!(inflated, tail);
    }

    #[test]
    fn the_text_is_kept_only_after_an_uncompressed_scrape() {
        let exposition = Exposition::new(SelfMetrics::new("0", "x")).expect("new");
        let s = snapshot("eu-west-1", 2000);
        exposition.publish(&s, None).expect("publish");
        assert!(
            exposition.current.load().text.is_none(),
            "gzip only: no text"
        );
        let gz = concat(exposition.body(Format::Classic, true).expect("gzip"));
        let plain = concat(exposition.body(Format::Classic, false).expect("plain"));
        assert!(exposition.current.load().text.is_some());
        assert_eq!(up_to_own_metrics(&gunzip(&gz)), up_to_own_metrics(&plain));
        let mut next = s.clone();
        next.finished_at += 1.0;
        exposition.publish(&next, None).expect("publish");
        assert!(
            exposition.current.load().text.is_some(),
            "kept after a plain scrape"
        );
    }

    #[test]
    fn a_burst_of_scrapes_shares_one_encoding_of_the_own_metrics_until_a_publish() {
        let exposition = Exposition::new(SelfMetrics::new("0", "x")).expect("new");
        exposition
            .publish(&snapshot("eu-west-1", 1), None)
            .expect("publish");
        let counter = exposition.self_metrics().api.requests.get_or_create(
            &crate::selfmetrics::OperationLabels {
                aws_account_id: "123456789012".into(),
                aws_region: "eu-west-1".into(),
                operation: "ListUserPools",
            },
        );
        let line = r#"cognito_exporter_api_requests_total{aws_account_id="123456789012",aws_region="eu-west-1",operation="ListUserPools"}"#;
        let scrape = || {
            String::from_utf8(concat(
                exposition.body(Format::Classic, false).expect("body"),
            ))
            .expect("utf-8")
        };
        counter.inc();
        assert!(scrape().contains(&format!("{line} 1\n")));
        counter.inc();
        assert!(scrape().contains(&format!("{line} 1\n")), "within TAIL_TTL");
        exposition
            .publish(&snapshot("eu-west-1", 2), None)
            .expect("publish");
        assert!(
            scrape().contains(&format!("{line} 2\n")),
            "renewed by a publish"
        );
    }

    #[test]
    fn republishing_an_unchanged_snapshot_renders_nothing() {
        let exposition = Exposition::new(SelfMetrics::new("0", "x")).expect("new");
        let s = snapshot("eu-west-1", 500);
        assert!(exposition.publish(&s, None).expect("publish") > 0);
        assert_eq!(exposition.publish(&s, None).expect("publish"), 0);
    }
}
