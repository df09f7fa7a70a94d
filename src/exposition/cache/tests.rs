//! The render cache against its promises: the same text as a render from nothing, in
//! blocks that concatenate, and nothing re-rendered that did not change.

use std::io::Read;
use std::sync::Arc;

use super::*;
use crate::exposition::segment::deflate;
use crate::model::{Destination, Kind, Level, LogDelivery, PoolRecord, Source};
use flate2::FlushCompress;

fn id() -> TargetId {
    TargetId::new("123456789012", "eu-west-1")
}

fn snapshot() -> TargetSnapshot {
    TargetSnapshot {
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
                features: None,
                log_changes: None,
                last_change: None,

                statuses: Vec::new(),

                verdicts: Vec::new(),
            },
            PoolRecord {
                id: Arc::from("eu-west-1_B"),
                name: Arc::from("gone"),
                delivery: None,
                success: false,
                last_success: None,
                features: None,
                log_changes: None,
                last_change: None,

                statuses: Vec::new(),

                verdicts: Vec::new(),
            },
        ],
    }
}

/// `n` pools in a mix of configurations, sorted by ID as snapshots are.
fn big(n: usize) -> TargetSnapshot {
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
            features: None,
            log_changes: None,
            last_change: None,

            statuses: Vec::new(),

            verdicts: Vec::new(),
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
    stream.extend(deflate(b"# EOF\n", FlushCompress::Finish, Compression::fast()).expect("tail"));
    let mut plain = String::new();
    flate2::read::DeflateDecoder::new(&stream[..])
        .read_to_string(&mut plain)
        .expect("inflate");
    plain.strip_suffix("# EOF\n").expect("tail").to_string()
}

#[test]
fn renders_matrix_info_and_target_series() {
    let out = render_text(&id(), &snapshot());
    let labels = r#"aws_account_id="123456789012",aws_region="eu-west-1",pool="eu-west-1_A""#;
    for line in [
        format!(
            r#"cognito_log_destination_configured{{{labels},source="userNotification",level="ERROR",kind="cloudwatch_logs"}} 1"#
        ),
        format!(
            r#"cognito_log_destination_configured{{{labels},source="userAuthEvents",level="INFO",kind="s3"}} 0"#
        ),
        format!(
            r#"cognito_log_destination_info{{{labels},source="userNotification",level="ERROR",kind="cloudwatch_logs",arn="arn:aws:logs:eu-west-1:123456789012:log-group:errors"}} 1"#
        ),
        format!(r#"cognito_user_pool_info{{{labels},name="prod \"main\""}} 1"#),
        format!("cognito_pool_poll_success{{{labels}}} 1"),
        format!("cognito_pool_last_success_timestamp_seconds{{{labels}}} 1700000000"),
        r#"cognito_exporter_stale_pools{aws_account_id="123456789012",aws_region="eu-west-1"} 1"#
            .to_string(),
        r#"cognito_exporter_pools{aws_account_id="123456789012",aws_region="eu-west-1"} 2"#
            .to_string(),
    ] {
        assert!(out.lines().any(|l| l == line), "missing {line}\n{out}");
    }
    // A stale pool keeps its identity series but no log series.
    assert!(!out.contains(r#"pool="eu-west-1_B",source"#));
    assert!(out.contains(r#"cognito_pool_poll_success{aws_account_id="123456789012",aws_region="eu-west-1",pool="eu-west-1_B"} 0"#));
    let rendered = render_target(&id(), &snapshot(), None, true).expect("render");
    assert_eq!(text(rendered.segments()), out);
}

#[test]
fn many_pools_are_cut_into_blocks_that_render_the_same_text() {
    let s = big(3000);
    let rendered = render_target(&id(), &s, None, true).expect("render");
    let blocks = rendered.family(0).count();
    assert!((4..=40).contains(&blocks), "{blocks} blocks");
    assert_eq!(text(rendered.segments()), render_text(&id(), &s));
    assert_eq!(rendered.rendered_bytes(), render_text(&id(), &s).len());
}

#[test]
fn segments_concatenate_into_one_deflate_stream_in_any_order() {
    // Full flushes forget the history: segments of different renders, and the
    // same segments reordered, still inflate to their texts.
    let a = render_target(&id(), &big(1500), None, false).expect("render");
    let b = render_target(&id(), &snapshot(), None, true).expect("render");
    let mut pieces: Vec<&Segment> = a.segments().chain(b.segments()).collect();
    pieces.reverse();
    pieces.swap(1, 7);
    let stream: Vec<u8> = pieces.iter().flat_map(|s| s.deflated.to_vec()).collect();
    assert_eq!(inflate(&stream), text(pieces.into_iter()));
}

#[test]
fn nothing_changed_renders_nothing() {
    let s = big(2000);
    let first = render_target(&id(), &s, None, true).expect("render");
    let again = render_target(&id(), &s, Some(&first), true).expect("render");
    assert_eq!(again.rendered_bytes(), 0);
    assert_eq!(text(again.segments()), text(first.segments()));
}

#[test]
fn a_changed_pool_re_renders_its_block_only() {
    let mut s = big(5000);
    let first = render_target(&id(), &s, None, true).expect("render");
    s.pools[2500].delivery = Some(LogDelivery::default());
    s.pools[4000].name = Arc::from("renamed");
    let again = render_target(&id(), &s, Some(&first), true).expect("render");
    let total = render_text(&id(), &s).len();
    assert!(
        again.rendered_bytes() * 10 < total,
        "{} of {total} bytes rendered",
        again.rendered_bytes()
    );
    assert_eq!(text(again.segments()), render_text(&id(), &s));
    let deflated: Vec<u8> = again.segments().flat_map(|s| s.deflated.to_vec()).collect();
    assert_eq!(inflate(&deflated), render_text(&id(), &s));
}

#[test]
fn an_added_pool_moves_the_cuts_around_it_only() {
    let mut s = big(5000);
    let first = render_target(&id(), &s, None, true).expect("render");
    let mut added = s.pools[1000].clone();
    added.id = Arc::from("eu-west-1_000001000a");
    s.pools.insert(1001, added);
    let again = render_target(&id(), &s, Some(&first), true).expect("render");
    assert!(again.rendered_bytes() * 10 < render_text(&id(), &s).len());
    assert_eq!(text(again.segments()), render_text(&id(), &s));
}

#[test]
fn dropped_text_inflates_back() {
    let s = big(3000);
    let lean = render_target(&id(), &s, None, false).expect("render");
    assert!(!lean.has_text());
    assert!(lean.segments().all(|seg| seg.text.is_none()));
    assert_eq!(
        text(lean.with_text().expect("inflate").segments()),
        render_text(&id(), &s)
    );
    let again = render_target(&id(), &s, Some(&lean), true).expect("render");
    assert!(again.has_text());
    assert_eq!(again.rendered_bytes(), 0);
    assert_eq!(text(again.segments()), render_text(&id(), &s));
}
