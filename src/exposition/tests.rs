//! The exposition as a scrape sees it: gzip and plain bodies that agree, families
//! contiguous across targets, and targets added, replaced and removed alone.

use std::io::{IoSlice, Read};

use bytes::Buf;

use super::*;
use crate::metrics::{self, ApiMetrics};
use crate::model::PoolRecord;

/// An exposition whose own metrics are the exporter's, and the API counters in them.
fn exposition() -> (Arc<Exposition>, ApiMetrics) {
    let mut registry = Registry::default();
    let api = ApiMetrics::register(&mut registry);
    metrics::register_build_info(&mut registry, "0", "x");
    metrics::process::register(&mut registry);
    let exposition = Exposition::new(registry).expect("new");
    (Arc::new(exposition), api)
}

fn id(region: &str) -> TargetId {
    TargetId::new("123456789012", region)
}

fn snapshot(region: &str, pools: usize) -> TargetSnapshot {
    TargetSnapshot {
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
                features: None,
                log_changes: None,
                last_change: None,

                statuses: Vec::new(),

                verdicts: Vec::new(),
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
    let (exposition, _) = exposition();
    exposition
        .publish(&id("eu-west-1"), &snapshot("eu-west-1", 3))
        .expect("publish");
    exposition
        .publish(&id("us-east-1"), &snapshot("us-east-1", 2))
        .expect("publish");
    let gz = concat(exposition.body(Format::OpenMetrics, true).expect("gzip"));
    let plain = concat(exposition.body(Format::OpenMetrics, false).expect("plain"));
    let inflated = gunzip(&gz);
    assert_eq!(up_to_own_metrics(&inflated), up_to_own_metrics(&plain));
    assert!(String::from_utf8_lossy(&inflated).ends_with("# EOF\n"));
}

#[test]
fn families_stay_contiguous_across_targets() {
    let (exposition, _) = exposition();
    exposition
        .publish(&id("eu-west-1"), &snapshot("eu-west-1", 1))
        .expect("publish");
    exposition
        .publish(&id("us-east-1"), &snapshot("us-east-1", 1))
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
fn a_dropped_slot_takes_its_target_away_and_leaves_the_others() {
    let (exposition, _) = exposition();
    let kept = exposition
        .claim(id("us-east-1"), "targets[0]".into())
        .expect("free");
    kept.publish(&snapshot("us-east-1", 2)).expect("publish");
    let provisional = exposition
        .claim(TargetId::new("", "eu-west-1"), "targets[1]".into())
        .expect("free");
    provisional
        .publish(&snapshot("eu-west-1", 0))
        .expect("publish");
    // Identified: the new slot publishes first, so the target is never missing.
    let identified = exposition
        .claim(id("eu-west-1"), "targets[1]".into())
        .expect("free");
    identified
        .publish(&snapshot("eu-west-1", 1))
        .expect("publish");
    drop(provisional);
    let text = String::from_utf8(concat(
        exposition.body(Format::Classic, false).expect("body"),
    ))
    .expect("utf-8");
    assert!(!text.contains("aws_account_id=\"\""), "{text}");
    for region in ["eu-west-1", "us-east-1"] {
        let up = format!(
            "cognito_exporter_target_up{{aws_account_id=\"123456789012\",aws_region=\"{region}\"}} 1\n"
        );
        assert!(text.contains(&up), "{up}{text}");
    }
    drop(identified);
    let text = String::from_utf8(concat(
        exposition.body(Format::Classic, false).expect("body"),
    ))
    .expect("utf-8");
    assert!(!text.contains("eu-west-1"), "{text}");
    assert!(
        text.contains("aws_region=\"us-east-1\",pool=\"us-east-1_1\""),
        "{text}"
    );
}

#[test]
fn one_identity_has_one_live_slot() {
    let (exposition, _) = exposition();
    let first = exposition
        .claim(id("eu-west-1"), "targets[0]".into())
        .expect("free");
    first.publish(&snapshot("eu-west-1", 1)).expect("publish");
    let refused = exposition
        .claim(id("eu-west-1"), "targets[3]".into())
        .expect_err("taken by targets[0]");
    assert_eq!(
        refused,
        Taken {
            id: id("eu-west-1"),
            holder: "targets[0]".into()
        }
    );
    assert_eq!(
        refused.to_string(),
        "targets[0] already publishes 123456789012 in eu-west-1"
    );
    // Another region is another identity.
    let other = exposition
        .claim(id("us-east-1"), "targets[3]".into())
        .expect("free");
    drop(first);
    let second = exposition
        .claim(id("eu-west-1"), "targets[3]".into())
        .expect("released");
    let text = String::from_utf8(concat(
        exposition.body(Format::Classic, false).expect("body"),
    ))
    .expect("utf-8");
    assert!(!text.contains("eu-west-1_0"), "{text}");
    drop((other, second));
}

#[tokio::test(start_paused = true)]
async fn released_waits_for_the_identitys_slot_to_go() {
    let (exposition, _) = exposition();
    // Nobody holds it: at once.
    exposition.released(&id("eu-west-1")).await;
    let held = exposition
        .claim(id("eu-west-1"), "targets[0]".into())
        .expect("free");
    let other = exposition
        .claim(id("us-east-1"), "targets[1]".into())
        .expect("free");
    let waiter = tokio::spawn({
        let exposition = Arc::clone(&exposition);
        async move { exposition.released(&id("eu-west-1")).await }
    });
    tokio::time::sleep(Duration::from_secs(60)).await;
    // Another identity's slot going does not end the wait.
    drop(other);
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert!(!waiter.is_finished(), "still held");
    drop(held);
    tokio::time::timeout(Duration::from_secs(1), waiter)
        .await
        .expect("woken when the slot went")
        .expect("no panic");
    exposition
        .claim(id("eu-west-1"), "targets[1]".into())
        .expect("free to claim");
}

#[test]
fn a_large_gzip_body_inflates_with_its_crc() {
    let (exposition, _) = exposition();
    exposition
        .publish(&id("eu-west-1"), &snapshot("eu-west-1", 3000))
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
fn a_counter_family_is_declared_as_each_format_requires_gzip_or_not() {
    let (exposition, _) = exposition();
    let mut s = snapshot("eu-west-1", 300);
    for pool in &mut s.pools {
        pool.log_changes = Some(2);
    }
    exposition.publish(&id("eu-west-1"), &s).expect("publish");
    exposition
        .publish(&id("us-east-1"), &snapshot("us-east-1", 3))
        .expect("publish");
    let family = "cognito_log_configuration_changes";
    let sample = format!(
        "{family}_total{{aws_account_id=\"123456789012\",aws_region=\"eu-west-1\",pool=\"eu-west-1_7\"}} 2\n"
    );
    for (format, declared, not) in [
        (
            Format::Classic,
            format!("# HELP {family}_total "),
            format!("# TYPE {family} "),
        ),
        (
            Format::OpenMetrics,
            format!("# HELP {family} "),
            format!("# TYPE {family}_total "),
        ),
    ] {
        let kind = if format == Format::Classic {
            format!("# TYPE {family}_total counter\n")
        } else {
            format!("# TYPE {family} counter\n")
        };
        let plain = concat(exposition.body(format, false).expect("plain"));
        let gz = concat(exposition.body(format, true).expect("gzip"));
        let text = up_to_own_metrics(&plain);
        assert_eq!(up_to_own_metrics(&gunzip(&gz)), text, "{format:?}");
        assert!(
            text.contains(&declared) && text.contains(&kind),
            "{format:?}"
        );
        assert!(!text.contains(&not), "{format:?}");
        assert!(text.contains(&sample), "{format:?}");
        // Every other family is a gauge, declared alike in both formats.
        assert!(text.contains("# TYPE cognito_log_destination_configured gauge\n"));
    }
}

#[test]
fn a_tail_longer_than_a_stored_block_still_inflates() {
    let tail = "x".repeat(150_000);
    let mut gz = GZIP_HEADER.to_vec();
    gz.extend_from_slice(&gzip_tail(&crc32fast::Hasher::new(), 0, tail.as_bytes()));
    let mut inflated = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut inflated)
        .expect("inflate");
    assert_eq!(inflated, tail);
}

#[test]
fn the_text_is_kept_only_after_an_uncompressed_scrape() {
    let (exposition, _) = exposition();
    let s = snapshot("eu-west-1", 2000);
    exposition.publish(&id("eu-west-1"), &s).expect("publish");
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
    exposition
        .publish(&id("eu-west-1"), &next)
        .expect("publish");
    assert!(
        exposition.current.load().text.is_some(),
        "kept after a plain scrape"
    );
}

#[test]
fn a_burst_of_scrapes_shares_one_encoding_of_the_own_metrics_until_a_publish() {
    let (exposition, api) = exposition();
    exposition
        .publish(&id("eu-west-1"), &snapshot("eu-west-1", 1))
        .expect("publish");
    let line = r#"cognito_exporter_api_requests_total{aws_account_id="123456789012",aws_region="eu-west-1",operation="ListUserPools"}"#;
    let scrape = || {
        String::from_utf8(concat(
            exposition.body(Format::Classic, false).expect("body"),
        ))
        .expect("utf-8")
    };
    api.request(&id("eu-west-1"), "ListUserPools");
    assert!(scrape().contains(&format!("{line} 1\n")));
    api.request(&id("eu-west-1"), "ListUserPools");
    assert!(scrape().contains(&format!("{line} 1\n")), "within TAIL_TTL");
    exposition
        .publish(&id("eu-west-1"), &snapshot("eu-west-1", 2))
        .expect("publish");
    assert!(
        scrape().contains(&format!("{line} 2\n")),
        "renewed by a publish"
    );
}

#[test]
fn a_target_s_forgotten_counters_leave_the_next_scrape_even_within_the_ttl() {
    let (exposition, api) = exposition();
    let gone = id("eu-west-1");
    exposition
        .publish(&gone, &snapshot("eu-west-1", 1))
        .expect("publish");
    api.request(&gone, "ListUserPools");
    let scrape = || {
        String::from_utf8(concat(
            exposition.body(Format::Classic, false).expect("body"),
        ))
        .expect("utf-8")
    };
    // The order a stopping target follows: series out, a scrape in between, then
    // its counters.
    exposition.remove(&gone);
    assert!(scrape().contains(r#"operation="ListUserPools"} 1"#));
    api.forget(&gone, &["ListUserPools"], &[]);
    exposition.renew_own_metrics();
    let text = scrape();
    assert!(!text.contains("123456789012"), "{text}");
}

#[test]
fn republishing_an_unchanged_snapshot_renders_nothing() {
    let (exposition, _) = exposition();
    let s = snapshot("eu-west-1", 500);
    assert!(exposition.publish(&id("eu-west-1"), &s).expect("publish") > 0);
    assert_eq!(
        exposition.publish(&id("eu-west-1"), &s).expect("publish"),
        0
    );
}
