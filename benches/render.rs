//! The render path at 10,000 pools, with criterion: render the text, compress it, render a
//! target from nothing, again after one change, after a cycle that only moved the
//! timestamps and after no change at all; assemble (publish); and build a scrape's body
//! when nothing changed, which does no per-pool work.
//!
//! `cargo bench --bench render`; `cargo test --benches` runs each once as a smoke test.

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use cognito_exporter::exposition::{self as render, Exposition, Format, Segment};
use cognito_exporter::metrics::{self, ApiMetrics};
use cognito_exporter::model::{
    Destination, Features, Kind, Level, LogDelivery, Plan, PoolRecord, Source, TargetId,
    TargetSnapshot, ThreatProtection,
};
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use prometheus_client::registry::Registry;

const POOLS: usize = 10_000;

/// `pools` pools with IDs and names shaped like Cognito's, and a cycling mix of log
/// configurations as cognito-sim seeds them: none, errors to CloudWatch Logs, user
/// activity to S3, both, and user activity to Firehose.
fn snapshot(pools: usize) -> TargetSnapshot {
    const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut id = || {
        let suffix: String = (0..9)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                char::from(BASE62[(state % 62) as usize])
            })
            .collect();
        format!("eu-west-1_{suffix}")
    };
    let account = "123456789012";
    let mut records: Vec<PoolRecord> = (0..pools)
        .map(|i| {
            let cloudwatch = Destination {
                source: Source::UserNotification,
                level: Level::Error,
                kind: Kind::CloudwatchLogs,
                arn: format!(
                    "arn:aws:logs:eu-west-1:{account}:log-group:/aws/cognito/pool-{i:05}/errors"
                ),
            };
            let activity = |kind, arn: String| Destination {
                source: Source::UserAuthEvents,
                level: Level::Info,
                kind,
                arn,
            };
            let destinations = match i % 5 {
                0 => vec![],
                1 => vec![cloudwatch],
                2 => vec![activity(
                    Kind::S3,
                    format!("arn:aws:s3:::cognito-activity-{account}-{i:05}"),
                )],
                3 => vec![
                    cloudwatch,
                    activity(
                        Kind::S3,
                        format!("arn:aws:s3:::cognito-activity-{account}-{i:05}"),
                    ),
                ],
                _ => vec![activity(
                    Kind::Firehose,
                    format!("arn:aws:firehose:eu-west-1:{account}:deliverystream/cognito-{i:05}"),
                )],
            };
            PoolRecord {
                id: Arc::from(id()),
                name: Arc::from(format!("tenant-{i:05}-production")),
                delivery: Some(LogDelivery::new(destinations)),
                success: true,
                last_success: Some(1_763_942_400.123),
                features: Some(Features {
                    plan: Some(Plan::Essentials),
                    threat_protection: ThreatProtection::Off,
                }),
                log_changes: Some(0),
                last_change: None,

                statuses: Vec::new(),

                verdicts: Vec::new(),
            }
        })
        .collect();
    records.sort_by(|a, b| a.id.cmp(&b.id));
    TargetSnapshot {
        up: true,
        duration_seconds: 667.5,
        finished_at: 1_763_942_400.5,
        pools: records,
    }
}

/// The next cycle when nothing changed in Cognito: every pool's last-success timestamp,
/// the cycle's duration and end moved.
fn next_cycle(s: &TargetSnapshot) -> TargetSnapshot {
    let mut next = s.clone();
    next.duration_seconds += 1.25;
    next.finished_at += 300.0;
    for pool in &mut next.pools {
        pool.last_success = pool.last_success.map(|t| t + 300.0);
    }
    next
}

/// The exporter's own metrics, as `run` registers them.
fn own_metrics() -> Registry {
    let mut registry = Registry::default();
    ApiMetrics::register(&mut registry);
    metrics::register_build_info(&mut registry, "bench", "bench");
    metrics::process::register(&mut registry);
    registry
}

fn benches(c: &mut Criterion) {
    let id = TargetId::new("123456789012", "eu-west-1");
    let id = &id;
    let s = snapshot(POOLS);
    let text = render::render_text(id, &s);
    let first = render::render_target(id, &s, None, true).expect("render");
    let gzip: usize = first.segments().map(|seg| seg.deflated().len()).sum();
    eprintln!(
        "{POOLS} pools: {} bytes of text, {gzip} bytes deflated, {} blocks per per-pool family",
        text.len(),
        first.family(0).count()
    );

    let mut g = c.benchmark_group(format!("{POOLS}_pools"));
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));

    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("render_text", |b| {
        b.iter(|| render::render_text(id, black_box(&s)))
    });
    g.bench_function("compress_text (Segment::new)", |b| {
        b.iter_batched(
            || text.clone().into_bytes(),
            |t| Segment::new(t).expect("compress"),
            BatchSize::LargeInput,
        )
    });
    g.bench_function("render_target from nothing", |b| {
        b.iter(|| render::render_target(id, black_box(&s), None, true).expect("render"))
    });

    g.throughput(Throughput::Elements(1));
    let mut changed = s.clone();
    changed.pools[POOLS / 2].delivery = Some(LogDelivery::default());
    let rendered = render::render_target(id, &changed, Some(&first), true).expect("render");
    eprintln!(
        "one changed pool: {} bytes rendered",
        rendered.rendered_bytes()
    );
    g.bench_function("render_target one change", |b| {
        b.iter(|| {
            render::render_target(id, black_box(&changed), Some(&first), true).expect("render")
        })
    });
    let next = next_cycle(&s);
    let rendered = render::render_target(id, &next, Some(&first), true).expect("render");
    eprintln!(
        "next cycle, timestamps moved: {} bytes rendered",
        rendered.rendered_bytes()
    );
    g.bench_function("render_target next cycle (timestamps moved)", |b| {
        b.iter(|| render::render_target(id, black_box(&next), Some(&first), true).expect("render"))
    });
    let rendered = render::render_target(id, &s, Some(&first), true).expect("render");
    assert_eq!(
        rendered.rendered_bytes(),
        0,
        "nothing changed, nothing rendered"
    );
    g.bench_function("render_target nothing changed", |b| {
        b.iter(|| render::render_target(id, black_box(&s), Some(&first), true).expect("render"))
    });

    g.throughput(Throughput::Bytes(text.len() as u64));
    let lean = render::render_target(id, &s, None, false).expect("render");
    g.bench_function("inflate the text (first uncompressed scrape)", |b| {
        b.iter(|| black_box(&lean).with_text().expect("inflate"))
    });

    // Publishing as the exporter does while only gzip is scraped: the text is dropped.
    g.throughput(Throughput::Elements(1));
    let exposition = Exposition::new(own_metrics()).expect("exposition");
    exposition.publish(id, &s).expect("publish");
    g.bench_function("publish nothing changed", |b| {
        b.iter(|| exposition.publish(id, black_box(&s)).expect("publish"))
    });
    let mut flip = false;
    g.bench_function("publish next cycle (timestamps moved)", |b| {
        b.iter(|| {
            flip = !flip;
            let snapshot = if flip { &next } else { &s };
            exposition
                .publish(id, black_box(snapshot))
                .expect("publish")
        })
    });
    exposition.publish(id, &s).expect("publish");
    g.bench_function("publish one change", |b| {
        b.iter(|| {
            flip = !flip;
            let snapshot = if flip { &changed } else { &s };
            exposition
                .publish(id, black_box(snapshot))
                .expect("publish")
        })
    });
    g.finish();

    // A scrape: nothing proportional to the pools is rendered, compressed or copied. The
    // exporter's own metrics are encoded again at most once a second (TAIL_TTL), so in
    // this loop almost every body reuses them; "own metrics" is what one encoding costs,
    // which a scraper at a usual interval pays on every scrape.
    let mut g = c.benchmark_group(format!("{POOLS}_pools_scrape_body"));
    g.sample_size(50)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    let own = own_metrics();
    g.bench_function("own metrics, encoded (classic)", |b| {
        b.iter(|| {
            let mut out = String::with_capacity(4096);
            metrics::encode_classic(&own, &mut out).expect("encode");
            out
        })
    });
    g.bench_function("own metrics, encoded (openmetrics)", |b| {
        b.iter(|| {
            let mut out = String::with_capacity(4096);
            metrics::encode_openmetrics(&own, &mut out).expect("encode");
            out
        })
    });
    for (format, name) in [
        (Format::Classic, "classic"),
        (Format::OpenMetrics, "openmetrics"),
    ] {
        for gzip in [true, false] {
            let label = format!("{name} {}", if gzip { "gzip" } else { "plain" });
            g.bench_function(label, |b| {
                b.iter(|| exposition.body(format, gzip).expect("body"))
            });
        }
    }
    g.finish();
}

criterion_group!(render_benches, benches);
criterion_main!(render_benches);
