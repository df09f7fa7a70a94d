#![allow(clippy::unwrap_used)]

use super::*;
use crate::model::{Destination, Kind, Level, LogDelivery, PoolRecord, Source, TargetSnapshot};

fn page(board: &Board, demo: bool, shard: Shard) -> String {
    let options = ServerOptions {
        demo,
        ..ServerOptions::default()
    };
    let bytes = StatusPage::new(&options, shard).body(board, false);
    String::from_utf8(bytes.to_vec()).unwrap()
}

fn pool(id: &str, name: &str, destinations: Option<Vec<Destination>>, ok: bool) -> PoolRecord {
    PoolRecord {
        id: id.into(),
        name: name.into(),
        delivery: destinations.map(LogDelivery::new),
        success: ok,
        last_success: ok.then_some(1_700_000_000.0),
        features: None,
        log_changes: None,
        last_change: None,

        statuses: Vec::new(),

        verdicts: Vec::new(),
    }
}

fn notification() -> Destination {
    Destination {
        source: Source::UserNotification,
        level: Level::Error,
        kind: Kind::CloudwatchLogs,
        arn: "arn:aws:logs:eu-west-1:111111111111:log-group:errors".into(),
    }
}

fn publish(board: &Board, account: &str, up: bool, pools: Vec<PoolRecord>) {
    let snapshot = TargetSnapshot {
        up,
        duration_seconds: 0.25,
        finished_at: 1_700_000_000.0,
        pools,
    };
    board.set(TargetSummary::of(
        &TargetId::new(account, "eu-west-1"),
        &snapshot,
    ));
}

#[test]
fn before_the_first_cycle_the_page_says_so() {
    let text = page(&Board::default(), false, Shard::default());
    assert!(
        text.contains("No target has finished a cycle yet"),
        "{text}"
    );
    assert!(text.contains("0 targets"), "{text}");
    assert!(text.contains(r#"href="/metrics""#), "{text}");
    assert!(
        text.contains("/-/healthy") && text.contains("/-/ready"),
        "{text}"
    );
    assert!(text.contains("docs/runbook.md"), "{text}");
    assert!(text.contains(r#"<meta name="viewport""#), "{text}");
    assert!(!text.contains("<script"), "no JavaScript:\n{text}");
    assert!(!text.contains("shard"), "not sharded:\n{text}");
}

#[test]
fn pool_names_and_ids_from_aws_are_escaped() {
    let board = Board::default();
    let hostile = r#"<script>alert("x")</script> & 'y'"#;
    publish(
        &board,
        "111111111111",
        true,
        vec![pool("eu-west-1_<b>", hostile, Some(vec![]), false)],
    );
    let text = page(&board, false, Shard::default());
    assert!(!text.contains("<script>"), "{text}");
    assert!(!text.contains("_<b>"), "{text}");
    assert!(
        text.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"),
        "{text}"
    );
    assert!(text.contains("eu-west-1_&lt;b&gt;"), "{text}");
}

#[test]
fn lists_stop_at_a_hundred_pools_and_count_the_rest() {
    let board = Board::default();
    for account in ["111111111111", "222222222222"] {
        let pools = (0..80)
            .map(|i| pool(&format!("eu-west-1_{i:03}"), "bare", Some(vec![]), true))
            .collect();
        publish(&board, account, true, pools);
    }
    let text = page(&board, false, Shard::default());
    assert!(
        text.contains("Pools with no log destination (160)"),
        "{text}"
    );
    assert_eq!(text.matches("<td>bare</td>").count(), LISTED);
    assert!(text.contains("and 60 more pools"), "{text}");
    assert!(
        text.contains("Pools failing to poll (0)</h2>\n<p>None.</p>"),
        "{text}"
    );
}

#[test]
fn down_targets_come_first_and_coverage_is_counted() {
    let board = Board::default();
    publish(
        &board,
        "111111111111",
        true,
        vec![
            pool("eu-west-1_a", "covered", Some(vec![notification()]), true),
            pool("eu-west-1_b", "bare", Some(vec![]), true),
        ],
    );
    publish(&board, "999999999999", false, vec![]);
    let text = page(&board, false, Shard::new(1, 3).unwrap());
    let down = text.find("<td>999999999999</td>").unwrap();
    let up = text.find("<td>111111111111</td>").unwrap();
    assert!(down < up, "the down target is listed first:\n{text}");
    assert!(text.contains("2 targets: 1 up"), "{text}");
    assert!(text.contains("1 down"), "{text}");
    assert!(text.contains("shard 1 of 3"), "{text}");
    assert!(
        text.contains("<b>1</b>with message-delivery error logs (userNotification)"),
        "{text}"
    );
    assert!(
        text.contains("<b>0</b>with user-activity logs (userAuthEvents)"),
        "{text}"
    );
    assert!(text.contains("<b>1</b>with no log destination"), "{text}");
    assert!(text.contains("2023-11-14 22:13:20 UTC"), "{text}");
    assert!(text.contains("250 ms"), "{text}");
}

#[test]
fn the_demo_says_at_the_top_that_everything_is_simulated() {
    let board = Board::default();
    let text = page(&board, true, Shard::default());
    let banner = text
        .find("everything on this page is simulated")
        .expect("a demo banner");
    assert!(banner < text.find("<h1>").unwrap(), "{text}");
    assert!(!page(&board, false, Shard::default()).contains("simulated"));
}

#[test]
fn the_page_is_built_once_per_change() {
    let board = Board::default();
    let status = StatusPage::new(&ServerOptions::default(), Shard::default());
    let first = status.body(&board, false);
    let again = status.body(&board, false);
    assert_eq!(first.as_ptr(), again.as_ptr(), "served from the cache");
    let gzip = status.body(&board, true);
    assert_eq!(gunzip(&gzip), first, "the same page");
    assert_eq!(
        gzip.as_ptr(),
        status.body(&board, true).as_ptr(),
        "compressed once"
    );
    publish(&board, "111111111111", true, vec![]);
    let changed = status.body(&board, false);
    assert_ne!(first, changed);
    assert!(String::from_utf8_lossy(&changed).contains("111111111111"));
    assert_eq!(
        gunzip(&status.body(&board, true)),
        changed,
        "compressed again after the change"
    );
}

fn gunzip(gz: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(gz)
        .read_to_end(&mut plain)
        .unwrap();
    plain
}

#[test]
fn a_fleet_of_a_thousand_targets_stays_a_reasonable_page() {
    let board = Board::default();
    for t in 0..1000 {
        let pools = (0..50)
            .map(|i| {
                let id = format!("eu-west-1_{t:04}{i:03}");
                match i % 5 {
                    0 => pool(&id, "bare", Some(vec![]), true),
                    1 => pool(&id, "failing", None, false),
                    _ => pool(&id, "covered", Some(vec![notification()]), true),
                }
            })
            .collect();
        publish(&board, &format!("{t:012}"), t % 10 != 0, pools);
    }
    let text = page(&board, false, Shard::default());
    let status = StatusPage::new(&ServerOptions::default(), Shard::default());
    eprintln!(
        "the status page at 1,000 targets: {} bytes, {} in gzip",
        text.len(),
        status.body(&board, true).len()
    );
    assert_eq!(text.matches("<td class=\"bad\">down</td>").count(), 100);
    assert!(text.contains("and 9900 more pools"), "{text:.2000}");
    assert!(text.len() < 300 * 1024, "{} bytes", text.len());
}
