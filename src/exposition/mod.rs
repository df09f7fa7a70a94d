//! The latest rendered exposition of every target, assembled into the body a scrape
//! serves.
//!
//! A target's task claims a `TargetSlot` for its identity, and no two live slots share
//! one (two targets publishing the same account and region would overwrite each other's
//! series cycle by cycle); it publishes each cycle's snapshot through it: the snapshot is
//! rendered outside any lock, re-rendering only what changed since the target's last
//! render (`cache`), then every target's [`Segment`]s are assembled
//! into the list of shared text chunks and the single gzip buffer a scrape serves, and
//! swapped in whole. Dropping the slot removes the target's series; no other target is
//! touched. A scrape loads the current assembly (one atomic load), encodes the
//! exporter's own metrics as a small tail, and hands out the chunks without copying
//! them: its [`Body`] is one `Buf` that gives the writer every chunk at once, so a whole
//! body goes out in a few `writev` calls.
//!
//! The samples of every family a target renders are written alike in the Prometheus
//! text format 0.0.4 and in OpenMetrics 1.0; so one rendering serves both formats and no
//! format is held twice. Only a counter family's HELP and TYPE lines differ between them
//! (OpenMetrics names the family without `_total`): each family's header is its own
//! segment, and a counter's exists once per format. The gzip buffer is still assembled
//! once per publish, cut at those headers into runs both formats share; a scrape is
//! handed its format's runs and headers in turn, and the trailer's CRC, kept per format,
//! is combined from the segments' as before.
//!
//! The text is kept only while someone scrapes without gzip. Prometheus always asks for
//! gzip, and the text is fifteen times the size of its deflate blocks (13 MB against
//! 0.7 MB at 10,000 pools): the first uncompressed scrape inflates it from the blocks
//! (tens of milliseconds at 10,000 pools), and renders keep it from then on until
//! `KEEP_TEXT` (15 minutes) passes without an uncompressed scrape.
//!
//! `status`: the status page's summary of each target, taken from the same snapshot.

mod body;
mod cache;
mod segment;
mod slot;
pub(crate) mod status;

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::{Bytes, BytesMut};
use prometheus_client::registry::Registry;

use crate::metrics;
use crate::model::{TargetId, TargetSnapshot};
use body::Assembly;
use cache::Header;
use segment::{GZIP_HEADER, gzip_tail};
use status::{Board, TargetSummary};

pub use body::Body;
pub use cache::{TargetRender, render_target, render_text};
pub use segment::Segment;
pub(crate) use slot::{Taken, TargetSlot};

/// Which text format a scrape asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Prometheus text format 0.0.4.
    Classic,
    /// OpenMetrics 1.0.
    OpenMetrics,
}

impl Format {
    /// The format's place in what is kept per format.
    pub(crate) fn index(self) -> usize {
        match self {
            Format::Classic => 0,
            Format::OpenMetrics => 1,
        }
    }

    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Classic => "text/plain; version=0.0.4; charset=utf-8",
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// Holds what scrapes serve; shared by the target tasks and the HTTP server.
#[derive(Debug)]
pub struct Exposition {
    headers: Vec<Header>,
    targets: Mutex<BTreeMap<TargetId, Arc<TargetRender>>>,
    /// Which target (by the name logs give it) holds each live slot.
    claims: Mutex<BTreeMap<TargetId, Arc<str>>>,
    /// Woken each time a slot is dropped, for the targets waiting for its identity.
    released: tokio::sync::Notify,
    current: ArcSwap<Assembly>,
    /// The exporter's own metrics, encoded on each scrape.
    registry: Registry,
    /// When the last uncompressed scrape came, in milliseconds after `epoch`, plus one;
    /// zero if none has.
    plain_scraped: AtomicU64,
    epoch: Instant,
    /// The last encoding of the exporter's own metrics per format and encoding.
    tails: Mutex<[Option<CachedTail>; 4]>,
    /// What the status page shows of each target.
    status: Board,
}

/// How long the text is kept after an uncompressed scrape.
pub(crate) const KEEP_TEXT: Duration = Duration::from_secs(15 * 60);

impl Exposition {
    /// An exposition with no target yet, whose scrapes end with `registry`'s metrics.
    pub fn new(registry: Registry) -> io::Result<Self> {
        let exposition = Self {
            headers: cache::family_headers()?,
            targets: Mutex::default(),
            claims: Mutex::default(),
            released: tokio::sync::Notify::new(),
            current: ArcSwap::default(),
            registry,
            plain_scraped: AtomicU64::new(0),
            epoch: Instant::now(),
            tails: Mutex::default(),
            status: Board::default(),
        };
        exposition.reassemble(&BTreeMap::new(), None);
        Ok(exposition)
    }

    /// Replaces the series of target `id` with those of `snapshot`, leaving every other
    /// target's as they are. Returns the bytes of text rendered: none when nothing
    /// changed.
    pub fn publish(&self, id: &TargetId, snapshot: &TargetSnapshot) -> io::Result<usize> {
        let previous = self.lock().get(id).cloned();
        let rendered = render_target(id, snapshot, previous.as_deref(), self.keep_text())?;
        drop(previous);
        let bytes = rendered.rendered_bytes();
        let summary = TargetSummary::of(id, snapshot);
        let mut targets = self.lock();
        targets.insert(id.clone(), Arc::new(rendered));
        self.reassemble(&targets, None);
        // Under the same lock, so the page never shows a target the metrics do not.
        self.status.set(summary);
        Ok(bytes)
    }

    /// Removes the series of target `id`.
    pub fn remove(&self, id: &TargetId) {
        let mut targets = self.lock();
        if targets.remove(id).is_some() {
            self.reassemble(&targets, None);
        }
        self.status.remove(id);
    }

    /// Drops the cached encoding of the exporter's own metrics, so the next scrape
    /// encodes them again: after series left the registry, none may show once the
    /// change that removed them is done.
    pub(crate) fn renew_own_metrics(&self) {
        *self.tails.lock().unwrap_or_else(|p| p.into_inner()) = Default::default();
    }

    /// What the status page shows of each target.
    pub(crate) fn status(&self) -> &Board {
        &self.status
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
        // The deflate blocks did not change: the gzip buffers scrapes are sending are kept.
        self.reassemble(&targets, Some(current.gzip.clone()));
        Ok(self.current.load_full())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<TargetId, Arc<TargetRender>>> {
        self.targets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Assembles what scrapes serve from `targets`; `gzip`, when given, is the gzip
    /// buffers of the same segments, assembled before.
    fn reassemble(
        &self,
        targets: &BTreeMap<TargetId, Arc<TargetRender>>,
        gzip: Option<[Vec<Bytes>; 2]>,
    ) {
        let mut assembly = Assembly::default();
        let mut text: Option<[Vec<Bytes>; 2]> = Some(Default::default());
        let mut shared = 0;
        let mut deflated = [GZIP_HEADER.len(); 2];
        for part in parts(&self.headers, targets) {
            for (f, segment) in part.per_format().into_iter().enumerate() {
                match (&mut text, &segment.text) {
                    (Some(lists), Some(t)) => lists[f].push(t.clone()),
                    _ => text = None,
                }
                assembly.len[f] += segment.len();
                assembly.crc[f].combine(&crc32fast::Hasher::new_with_initial_len(
                    segment.crc,
                    segment.len(),
                ));
                deflated[f] += segment.deflated.len();
            }
            if let Part::Both(segment) = part {
                shared += segment.deflated.len();
            }
        }
        assembly.gzip = gzip.unwrap_or_else(|| {
            // One buffer for everything both formats share, cut where a format's own
            // header goes: the runs are shared, not copied per format.
            let mut run = BytesMut::with_capacity(GZIP_HEADER.len() + shared);
            run.extend_from_slice(&GZIP_HEADER);
            let mut out: [Vec<Bytes>; 2] = Default::default();
            for part in parts(&self.headers, targets) {
                match part {
                    Part::Both(segment) => run.extend_from_slice(&segment.deflated),
                    Part::Each(segments) => {
                        let piece = run.split().freeze();
                        for (f, segment) in segments.iter().enumerate() {
                            out[f].push(piece.clone());
                            out[f].push(segment.deflated.clone());
                        }
                    }
                }
            }
            let piece = run.freeze();
            for list in &mut out {
                list.push(piece.clone());
            }
            out
        });
        debug_assert!(
            (0..2)
                .all(|f| { assembly.gzip[f].iter().map(Bytes::len).sum::<usize>() == deflated[f] })
        );
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
        Body::new(assembly, format, gzip, tail)
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
            Format::Classic => metrics::encode_classic(&self.registry, &mut text),
            Format::OpenMetrics => metrics::encode_openmetrics(&self.registry, &mut text),
        };
        encoded.map_err(|_| io::Error::other("encoding the exporter's own metrics failed"))?;
        let bytes = if gzip {
            let f = format.index();
            gzip_tail(&assembly.crc[f], assembly.len[f], text.as_bytes())
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
pub(crate) const TAIL_TTL: Duration = Duration::from_secs(1);

/// One encoding of the exporter's own metrics.
#[derive(Debug)]
struct CachedTail {
    /// The assembly it follows: a gzip tail's trailer covers the whole body. Weak, so it
    /// keeps no body alive; its allocation stays, so no new assembly takes its address.
    assembly: Weak<Assembly>,
    at: Instant,
    bytes: Bytes,
}

/// One piece of the exposition: a segment both formats serve, or one per format.
#[derive(Clone, Copy)]
enum Part<'a> {
    Both(&'a Segment),
    /// Indexed by [`Format::index`].
    Each(&'a [Segment; 2]),
}

impl<'a> Part<'a> {
    /// The segment each format serves, by [`Format::index`].
    fn per_format(self) -> [&'a Segment; 2] {
        match self {
            Part::Both(segment) => [segment, segment],
            Part::Each([classic, openmetrics]) => [classic, openmetrics],
        }
    }

    fn is_empty(self) -> bool {
        self.per_format().iter().all(|s| s.is_empty())
    }
}

/// Every target's segments in exposition order: family by family, each family's header
/// then its segments of every target.
fn parts<'a>(
    headers: &'a [Header],
    targets: &'a BTreeMap<TargetId, Arc<TargetRender>>,
) -> impl Iterator<Item = Part<'a>> + 'a {
    headers
        .iter()
        .enumerate()
        .flat_map(move |(family, header)| {
            let header = match header {
                Header::Shared(segment) => Part::Both(segment),
                Header::PerFormat(segments) => Part::Each(segments),
            };
            std::iter::once(header).chain(
                targets
                    .values()
                    .flat_map(move |t| t.family(family))
                    .map(Part::Both),
            )
        })
        .filter(|p| !p.is_empty())
}

/// Room for the exporter's own metrics of a few targets without growing the string.
const TAIL_CAPACITY: usize = 4096;

#[cfg(test)]
mod tests;
