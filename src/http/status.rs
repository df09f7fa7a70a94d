//! The status page at `/`: every target, down ones first, with its last cycle and its
//! pools' log coverage; the pools with no log destination and the pools failing to
//! poll. It is built from the exposition's summaries, taken from the same snapshots as
//! the metrics, at most once per change, and served from a cache in between. One
//! self-contained HTML document: no script, no external asset, readable on a phone.
//!
//! Bounded for big fleets: at most [`TARGET_ROWS`] targets and [`LISTED`] pools of
//! each list are shown, the rest counted (about 200 kB at 1,000 targets). Served
//! gzip-compressed to a client that accepts it, compressed once per change.
//!
//! `format`: text escaped for HTML, times and durations as the page writes them.

mod format;

use std::fmt::{self, Display, Formatter};
use std::io::Write;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use flate2::Compression;
use flate2::write::GzEncoder;

use super::ServerOptions;
use crate::exposition::status::{Board, Coverage, LISTED, NamedPool, TargetSummary, View};
use crate::model::TargetId;
use crate::shard::Shard;
use format::{Escaped, Took, Utc};

/// How many targets the table shows; the rest are counted.
pub(crate) const TARGET_ROWS: usize = 1000;

/// Where the project's documentation lives.
const README: &str = "https://github.com/cognito-exporter/cognito-exporter#readme";
const RUNBOOK: &str =
    "https://github.com/cognito-exporter/cognito-exporter/blob/main/docs/runbook.md";

/// The page, rebuilt when the summaries change.
#[derive(Debug)]
pub(crate) struct StatusPage {
    telemetry_path: String,
    demo: bool,
    shard: Shard,
    /// The last page built.
    cache: Mutex<Option<Built>>,
}

/// A page built, for the generation of the summaries it shows.
#[derive(Debug)]
struct Built {
    generation: u64,
    plain: Bytes,
    /// Compressed at the first request that accepts it.
    gzip: Option<Bytes>,
}

impl StatusPage {
    pub(crate) fn new(options: &ServerOptions, shard: Shard) -> Self {
        Self {
            telemetry_path: options.telemetry_path.clone(),
            demo: options.demo,
            shard,
            cache: Mutex::default(),
        }
    }

    /// The page showing `board` as it is now, gzip-compressed if `gzip`.
    pub(crate) fn body(&self, board: &Board, gzip: bool) -> Bytes {
        // Held while building, so concurrent requests after a change build it once.
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let built = match &mut *cache {
            Some(built) if built.generation == board.generation() => built,
            stale => {
                let view = board.view();
                stale.insert(Built {
                    generation: view.generation,
                    plain: Bytes::from(self.render(&view)),
                    gzip: None,
                })
            }
        };
        if !gzip {
            return built.plain.clone();
        }
        built
            .gzip
            .get_or_insert_with(|| compress(&built.plain))
            .clone()
    }

    fn render(&self, view: &View) -> String {
        Page::new(self, view).to_string()
    }
}

/// `page` in gzip.
fn compress(page: &[u8]) -> Bytes {
    let mut gz = GzEncoder::new(Vec::with_capacity(page.len() / 4), Compression::default());
    // Writing to a Vec cannot fail.
    gz.write_all(page).expect("in memory");
    Bytes::from(gz.finish().expect("in memory"))
}

/// One build of the page.
struct Page<'a> {
    options: &'a StatusPage,
    /// Down first, then by account and region.
    targets: Vec<&'a TargetSummary>,
    total: Coverage,
}

impl<'a> Page<'a> {
    fn new(options: &'a StatusPage, view: &'a View) -> Self {
        let mut targets: Vec<&TargetSummary> = view.targets.values().map(Arc::as_ref).collect();
        // Stable: the map's order (account, region) is kept within each state.
        targets.sort_by_key(|t| t.up);
        let mut total = Coverage::default();
        for t in &targets {
            total.add(&t.coverage);
        }
        Self {
            options,
            targets,
            total,
        }
    }

    fn head(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>cognito-exporter status</title>\n<style>\n",
        )?;
        f.write_str(STYLE)?;
        f.write_str("</style>\n</head>\n<body>\n")?;
        if self.options.demo {
            f.write_str(
                "<p class=\"demo\" role=\"alert\"><strong>Demo:</strong> everything on this \
                 page is simulated. The data comes from the built-in Cognito simulator; no \
                 AWS account is polled.</p>\n",
            )?;
        }
        let down = self.targets.iter().filter(|t| !t.up).count();
        write!(
            f,
            "<h1>cognito-exporter</h1>\n<p class=\"meta\">version {}",
            crate::VERSION
        )?;
        if self.options.shard.total() > 1 {
            write!(f, " · {}", self.options.shard)?;
        }
        write!(
            f,
            " · {} target{}: {} up, <span class=\"{}\">{down} down</span>",
            self.targets.len(),
            if self.targets.len() == 1 { "" } else { "s" },
            self.targets.len() - down,
            if down > 0 { "bad" } else { "ok" },
        )?;
        let latest = self
            .targets
            .iter()
            .map(|t| t.finished_at)
            .fold(0.0, f64::max);
        if latest > 0.0 {
            write!(f, " · last cycle finished {}", Utc(latest))?;
        }
        write!(
            f,
            "</p>\n<p>Log delivery of Amazon Cognito user pools, from each target's last \
             cycle: the same data <a href=\"{path}\">the metrics</a> serve.</p>\n\
             <nav><a href=\"{path}\">Metrics</a> <a href=\"/-/healthy\">Health</a> \
             <a href=\"/-/ready\">Readiness</a> <a href=\"{README}\">Documentation</a> \
             <a href=\"{RUNBOOK}\">Runbook</a></nav>\n",
            path = Escaped(&self.options.telemetry_path),
        )
    }

    fn coverage(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let c = &self.total;
        f.write_str("<h2>Coverage</h2>\n<div class=\"cards\">\n")?;
        let cards = [
            (c.pools, "pools", ""),
            (
                c.notification,
                "with message-delivery error logs (userNotification)",
                "",
            ),
            (
                c.auth_events,
                "with user-activity logs (userAuthEvents)",
                "",
            ),
            (c.none, "with no log destination", "bad"),
            (c.failing, "failing to poll", "bad"),
            (c.unknown, "not known (no recent read)", "bad"),
        ];
        for (count, what, class) in cards {
            let class = if count > 0 { class } else { "" };
            writeln!(f, "<div class=\"card {class}\"><b>{count}</b>{what}</div>")?;
        }
        f.write_str("</div>\n")
    }

    fn targets(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(
            "<h2 id=\"targets\">Targets</h2>\n<div class=\"scroll\"><table class=\"targets\">\n<thead><tr>\
             <th>Account</th><th>Region</th><th>State</th><th>Last cycle finished</th>\
             <th>Took</th><th>Pools</th><th>userNotification</th><th>userAuthEvents</th>\
             <th>No destination</th><th>Failing</th>\
             </tr></thead>\n<tbody>\n",
        )?;
        for t in self.targets.iter().take(TARGET_ROWS) {
            let c = &t.coverage;
            let (state, class, row) = if t.up {
                ("up", "ok", "<tr>")
            } else {
                ("down", "bad", "<tr class=\"down\">")
            };
            writeln!(
                f,
                "{row}{}<td class=\"{class}\">{state}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td>{}</td><td>{}</td></tr>",
                Where(&t.id),
                Utc(t.finished_at),
                Took(t.duration_seconds),
                c.pools,
                c.notification,
                c.auth_events,
                c.none,
                c.failing,
            )?;
        }
        f.write_str("</tbody>\n</table></div>\n")?;
        more(f, self.targets.len(), TARGET_ROWS, "targets")
    }

    /// A list of pools across targets, in the targets' order: the first [`LISTED`].
    fn pools(
        &self,
        f: &mut Formatter<'_>,
        (anchor, title): (&str, &str),
        total: usize,
        pools: impl Fn(&TargetSummary) -> &[NamedPool],
    ) -> fmt::Result {
        writeln!(f, "<h2 id=\"{anchor}\">{title} ({total})</h2>")?;
        if total == 0 {
            return f.write_str("<p>None.</p>\n");
        }
        f.write_str(
            "<div class=\"scroll\"><table>\n<thead><tr><th>Account</th><th>Region</th>\
             <th>Pool ID</th><th>Name</th><th>Last successful read</th></tr></thead>\n\
             <tbody>\n",
        )?;
        let listed = self
            .targets
            .iter()
            .flat_map(|t| pools(t).iter().map(move |p| (&t.id, p)))
            .take(LISTED);
        for (id, pool) in listed {
            let read = match pool.last_success {
                Some(at) => Utc(at).to_string(),
                None => "never".to_owned(),
            };
            writeln!(
                f,
                "<tr>{}<td><code>{}</code></td><td>{}</td><td>{read}</td></tr>",
                Where(id),
                Escaped(&pool.id),
                Escaped(&pool.name),
            )?;
        }
        f.write_str("</tbody>\n</table></div>\n")?;
        more(f, total, LISTED, "pools")
    }
}

impl Display for Page<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.head(f)?;
        if self.targets.is_empty() {
            f.write_str(
                "<p class=\"empty\">No target has finished a cycle yet. This page fills in \
                 as each target finishes its first cycle.</p>\n",
            )?;
        } else {
            self.coverage(f)?;
            self.targets(f)?;
            let total = self.total;
            self.pools(
                f,
                ("uncovered", "Pools with no log destination"),
                total.none,
                |t| &t.uncovered,
            )?;
            self.pools(
                f,
                ("failing", "Pools failing to poll"),
                total.failing,
                |t| &t.failing,
            )?;
        }
        f.write_str("</body>\n</html>\n")
    }
}

/// "and N more", when a list shows `shown` of `total`.
fn more(f: &mut Formatter<'_>, total: usize, shown: usize, what: &str) -> fmt::Result {
    match total.checked_sub(shown) {
        Some(rest) if rest > 0 => writeln!(
            f,
            "<p class=\"more\">and {rest} more {what}, not listed here; every one is in the \
             metrics.</p>"
        ),
        _ => Ok(()),
    }
}

/// The account and region cells of a row.
struct Where<'a>(&'a TargetId);

impl Display for Where<'_> {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let account = if self.0.account_id.is_empty() {
            "unknown"
        } else {
            &self.0.account_id
        };
        write!(
            f,
            "<td>{}</td><td>{}</td>",
            Escaped(account),
            Escaped(&self.0.region)
        )
    }
}

/// Plain, responsive and self-contained: tables scroll sideways on a narrow screen.
const STYLE: &str = "\
body{font-family:system-ui,-apple-system,\"Segoe UI\",Roboto,sans-serif;margin:0 auto;\
max-width:75rem;padding:1rem;color:#1f2328;background:#fff;line-height:1.45}
h1{margin:.2rem 0;font-size:1.6rem}h2{margin-top:1.6rem;font-size:1.2rem}
.demo{background:#fff4ce;border:2px solid #9a6700;border-radius:6px;padding:.75rem;\
font-size:1.05rem}
.meta{color:#59636e;margin:.2rem 0 .8rem}
nav a{display:inline-block;margin:0 1rem .4rem 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(10rem,1fr));gap:.6rem}
.card{border:1px solid #d1d9e0;border-radius:6px;padding:.6rem}
.card b{display:block;font-size:1.6rem}
.card.bad{border-color:#cf222e;background:#ffebe9}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #d1d9e0;white-space:nowrap}
th{background:#f6f8fa}
.targets td:nth-child(n+5),.targets th:nth-child(n+5){text-align:right}
.bad{color:#cf222e;font-weight:600}.ok{color:#1a7f37}
.card.bad b,.card.bad{color:#82071e}
tr.down td{background:#fff5f5}
.more,.empty{color:#59636e}
@media (max-width:40rem){body{padding:.6rem}table{font-size:.8rem}h1{font-size:1.3rem}}
";

#[cfg(test)]
mod tests;
