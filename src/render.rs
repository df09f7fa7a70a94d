//! Renders a target's snapshot into exposition text once per cycle, and compresses it
//! once, so that scrapes only hand out prepared bytes.
//!
//! Every family rendered here is a gauge, and gauge lines are the same in the Prometheus
//! text format 0.0.4 and in OpenMetrics 1.0; so one rendering serves both formats and no
//! format is held twice. Each family of each target is a separate [`Segment`]: the text,
//! and the same text as a raw-deflate block sequence ended by a sync flush. Deflate
//! blocks ended that way can be concatenated into one stream, so a gzip body is a header,
//! the cached segments, a small tail compressed per scrape, and a trailer whose CRC is
//! combined from the segments' CRCs: nothing proportional to the pool count is compressed
//! per scrape.

use std::fmt::Write as _;
use std::io;

use bytes::Bytes;
use flate2::{Compress, Compression, FlushCompress, Status};

use crate::model::TargetSnapshot;

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

/// A metric family's name and help text.
#[derive(Debug)]
pub struct Family {
    pub name: &'static str,
    pub help: &'static str,
}

/// One piece of the exposition: its text, the same text deflated, and the CRC-32 and
/// length the gzip trailer needs.
#[derive(Clone, Debug, Default)]
pub struct Segment {
    pub text: Bytes,
    pub deflated: Bytes,
    pub crc: u32,
}

impl Segment {
    /// Compresses `text` into a sync-flushed raw-deflate block sequence. Level 6: the
    /// text compresses about 20:1 and this runs once per change, never per scrape.
    pub fn new(text: Vec<u8>) -> io::Result<Self> {
        if text.is_empty() {
            return Ok(Self::default());
        }
        let deflated = deflate(&text, FlushCompress::Sync, Compression::default())?;
        let crc = crc32fast::hash(&text);
        Ok(Self {
            text: Bytes::from(text),
            deflated: Bytes::from(deflated),
            crc,
        })
    }

    pub fn len(&self) -> u64 {
        self.text.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }
}

/// Deflates `input` as raw deflate, ended by `flush` (`Sync` to continue the stream with
/// more blocks, `Finish` to end it).
pub fn deflate(input: &[u8], flush: FlushCompress, level: Compression) -> io::Result<Vec<u8>> {
    let mut compress = Compress::new(level, false);
    let mut out = Vec::with_capacity(input.len() / 8 + 64);
    loop {
        let consumed = usize::try_from(compress.total_in()).map_err(io::Error::other)?;
        let status = compress
            .compress_vec(&input[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        let all_in = compress.total_in() == input.len() as u64;
        let done = match flush {
            FlushCompress::Finish => status == Status::StreamEnd,
            // A flush is complete once the compressor stops filling the whole buffer.
            _ => all_in && out.len() < out.capacity(),
        };
        if done {
            return Ok(out);
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

/// Renders a snapshot into one segment per entry of [`FAMILIES`].
pub fn render_target(snapshot: &TargetSnapshot) -> io::Result<Vec<Segment>> {
    let mut target = String::new();
    push_label(&mut target, "aws_account_id", &snapshot.account_id);
    target.push(',');
    push_label(&mut target, "aws_region", &snapshot.region);

    let mut out: [String; FAMILIES.len()] = Default::default();
    let [
        configured,
        info,
        pool_info,
        success,
        last_success,
        up,
        duration,
        last_poll,
        pools,
        stale,
    ] = &mut out;
    for pool in &snapshot.pools {
        let mut labels = target.clone();
        labels.push(',');
        push_label(&mut labels, "pool", &pool.id);

        if let Some(delivery) = &pool.delivery {
            for ((source, level, kind), on) in delivery.matrix() {
                let _ = writeln!(
                    configured,
                    "cognito_log_destination_configured{{{labels},source=\"{}\",level=\"{}\",kind=\"{}\"}} {}",
                    source.as_str(),
                    level.as_str(),
                    kind.as_str(),
                    u8::from(on)
                );
            }
            for d in delivery.destinations() {
                let _ = write!(
                    info,
                    "cognito_log_destination_info{{{labels},source=\"{}\",level=\"{}\",kind=\"{}\",",
                    d.source.as_str(),
                    d.level.as_str(),
                    d.kind.as_str()
                );
                push_label(info, "arn", &d.arn);
                info.push_str("} 1\n");
            }
        }
        let _ = write!(pool_info, "cognito_user_pool_info{{{labels},");
        push_label(pool_info, "name", &pool.name);
        pool_info.push_str("} 1\n");
        let _ = writeln!(
            success,
            "cognito_pool_poll_success{{{labels}}} {}",
            u8::from(pool.success)
        );
        if let Some(at) = pool.last_success {
            let _ = writeln!(
                last_success,
                "cognito_pool_last_success_timestamp_seconds{{{labels}}} {at}"
            );
        }
    }
    let _ = writeln!(
        up,
        "cognito_exporter_target_up{{{target}}} {}",
        u8::from(snapshot.up)
    );
    let _ = writeln!(
        duration,
        "cognito_exporter_poll_duration_seconds{{{target}}} {}",
        snapshot.duration_seconds
    );
    let _ = writeln!(
        last_poll,
        "cognito_exporter_last_poll_timestamp_seconds{{{target}}} {}",
        snapshot.finished_at
    );
    let _ = writeln!(
        pools,
        "cognito_exporter_pools{{{target}}} {}",
        snapshot.pools.len()
    );
    let _ = writeln!(
        stale,
        "cognito_exporter_stale_pools{{{target}}} {}",
        snapshot.stale_pools()
    );
    out.into_iter()
        .map(|s| Segment::new(s.into_bytes()))
        .collect()
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

    fn text(segments: &[Segment]) -> String {
        segments
            .iter()
            .map(|s| String::from_utf8_lossy(&s.text).into_owned())
            .collect()
    }

    #[test]
    fn renders_matrix_info_and_target_series() {
        let out = text(&render_target(&snapshot()).expect("render"));
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
    }

    #[test]
    fn sync_flushed_segments_concatenate_into_one_deflate_stream() {
        let segments = render_target(&snapshot()).expect("render");
        let mut stream = Vec::new();
        for s in &segments {
            stream.extend_from_slice(&s.deflated);
        }
        stream
            .extend(deflate(b"# EOF\n", FlushCompress::Finish, Compression::fast()).expect("tail"));
        let mut plain = String::new();
        flate2::read::DeflateDecoder::new(&stream[..])
            .read_to_string(&mut plain)
            .expect("inflate");
        assert_eq!(plain, text(&segments) + "# EOF\n");
    }

    #[test]
    fn label_values_are_escaped() {
        let mut s = String::new();
        push_label(&mut s, "name", "a\\b\"c\nd");
        assert_eq!(s, r#"name="a\\b\"c\nd""#);
    }
}
