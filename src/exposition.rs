//! The latest rendered exposition of every target, assembled into the body a scrape
//! serves.
//!
//! A poller [`Exposition::publish`]es its target's snapshot when a cycle ends: the
//! snapshot is rendered and compressed outside any lock, then the per-target pieces are
//! re-assembled into a list of shared byte chunks and swapped in whole. A scrape loads the
//! current assembly (one atomic load), encodes the exporter's own metrics as a small
//! tail, and hands out the chunks without copying them.

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use bytes::Bytes;
use flate2::{Compression, FlushCompress};

use crate::model::TargetSnapshot;
use crate::render::{self, Segment};
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
    text: Vec<Bytes>,
    deflated: Vec<Bytes>,
    /// CRC-32 and length of the concatenated text, for the gzip trailer.
    crc: crc32fast::Hasher,
    len: u64,
}

/// The body of one scrape, as chunks to send in order.
#[derive(Debug)]
pub struct Body {
    pub chunks: Vec<Bytes>,
    pub len: u64,
}

/// Holds what scrapes serve; shared by the pollers and the HTTP server.
#[derive(Debug)]
pub struct Exposition {
    headers: Vec<Segment>,
    targets: Mutex<BTreeMap<TargetKey, Vec<Segment>>>,
    current: ArcSwap<Assembly>,
    self_metrics: SelfMetrics,
}

impl Exposition {
    pub fn new(self_metrics: SelfMetrics) -> io::Result<Self> {
        let exposition = Self {
            headers: render::family_headers()?,
            targets: Mutex::default(),
            current: ArcSwap::default(),
            self_metrics,
        };
        exposition.reassemble(&BTreeMap::new());
        Ok(exposition)
    }

    pub fn self_metrics(&self) -> &SelfMetrics {
        &self.self_metrics
    }

    /// Replaces a target's series with those of `snapshot`. When the key changes (the
    /// account ID became known), pass the previous key as `replaces` so its series go.
    pub fn publish(
        &self,
        snapshot: &TargetSnapshot,
        replaces: Option<&TargetKey>,
    ) -> io::Result<()> {
        let segments = render::render_target(snapshot)?;
        let key = (snapshot.account_id.clone(), snapshot.region.clone());
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(old) = replaces.filter(|old| **old != key) {
            targets.remove(old);
        }
        targets.insert(key, segments);
        self.reassemble(&targets);
        Ok(())
    }

    /// Drops a target's series.
    pub fn remove(&self, key: &TargetKey) {
        let mut targets = self.targets.lock().unwrap_or_else(|p| p.into_inner());
        targets.remove(key);
        self.reassemble(&targets);
    }

    fn reassemble(&self, targets: &BTreeMap<TargetKey, Vec<Segment>>) {
        let mut assembly = Assembly::default();
        for (family, header) in self.headers.iter().enumerate() {
            let pieces = std::iter::once(header)
                .chain(targets.values().filter_map(|segments| segments.get(family)));
            for segment in pieces.filter(|s| !s.is_empty()) {
                assembly.text.push(segment.text.clone());
                assembly.deflated.push(segment.deflated.clone());
                assembly.len += segment.len();
                assembly
                    .crc
                    .combine(&crc32fast::Hasher::new_with_initial_len(
                        segment.crc,
                        segment.len(),
                    ));
            }
        }
        self.current.store(Arc::new(assembly));
    }

    /// The body of a scrape in `format`, gzip-compressed when `gzip`.
    pub fn body(&self, format: Format, gzip: bool) -> io::Result<Body> {
        let assembly = self.current.load_full();
        let mut tail = String::new();
        let encoded = match format {
            Format::Classic => self.self_metrics.encode_classic(&mut tail),
            Format::OpenMetrics => self.self_metrics.encode_openmetrics(&mut tail),
        };
        encoded.map_err(|_| io::Error::other("encoding the exporter's own metrics failed"))?;
        let tail = tail.into_bytes();

        let mut chunks;
        if gzip {
            let mut crc = assembly.crc.clone();
            let mut tail_crc = crc32fast::Hasher::new();
            tail_crc.update(&tail);
            crc.combine(&tail_crc);
            let total = assembly.len + tail.len() as u64;
            chunks = Vec::with_capacity(assembly.deflated.len() + 3);
            chunks.push(Bytes::from_static(&GZIP_HEADER));
            chunks.extend(assembly.deflated.iter().cloned());
            chunks.push(Bytes::from(render::deflate(
                &tail,
                FlushCompress::Finish,
                Compression::fast(),
            )?));
            let mut trailer = Vec::with_capacity(8);
            trailer.extend_from_slice(&crc.finalize().to_le_bytes());
            // ISIZE is the length modulo 2^32, as RFC 1952 defines it.
            trailer.extend_from_slice(&(total as u32).to_le_bytes());
            chunks.push(Bytes::from(trailer));
        } else {
            chunks = Vec::with_capacity(assembly.text.len() + 1);
            chunks.extend(assembly.text.iter().cloned());
            chunks.push(Bytes::from(tail));
        }
        let len = chunks.iter().map(|c| c.len() as u64).sum();
        Ok(Body { chunks, len })
    }
}

/// Magic, deflate, no flags, no mtime, no extra flags, OS unknown (RFC 1952).
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

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

    fn concat(body: &Body) -> Vec<u8> {
        body.chunks.iter().flat_map(|c| c.iter().copied()).collect()
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
        let gz = exposition.body(Format::OpenMetrics, true).expect("gzip");
        let plain = exposition.body(Format::OpenMetrics, false).expect("plain");
        let mut inflated = Vec::new();
        flate2::read::GzDecoder::new(&concat(&gz)[..])
            .read_to_end(&mut inflated)
            .expect("a valid gzip stream, CRC and length included");
        // process_* values may differ between the two encodings; compare up to them.
        let cut = |b: &[u8]| {
            let s = String::from_utf8_lossy(b).into_owned();
            s[..s
                .find("# HELP cognito_exporter_build_info")
                .unwrap_or_else(|| panic!("no tail in {}", &s[s.len() - 1500..]))]
                .to_string()
        };
        assert_eq!(cut(&inflated), cut(&concat(&plain)));
        assert_eq!(plain.len, concat(&plain).len() as u64);
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
            &exposition.body(Format::Classic, false).expect("body"),
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
            &exposition.body(Format::Classic, false).expect("body"),
        ))
        .expect("utf-8");
        assert!(!text.contains("aws_account_id=\"\""), "{text}");
    }
}
