//! The exporter's command line: parses flags, sets up logging, loads the configuration
//! and hands over to [`cognito_exporter::run`].

#[path = "cognito-exporter/simulator.rs"]
mod simulator;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser};
use cognito_exporter::config::{self, Config, FlagOverrides};
use cognito_exporter::http::{self, ListenAddress, ServerOptions};
use cognito_exporter::lifecycle::Reloader;
use cognito_exporter::logging::{self, LogFormat};
use cognito_exporter::shard::Shard;
use cognito_exporter::{FleetOptions, RunError};
use tokio_util::sync::CancellationToken;
use web_config::WebSecurity;

/// Prometheus exporter for the log-delivery configuration of Amazon Cognito user pools.
#[derive(Debug, Parser)]
#[command(name = "cognito-exporter", version = VERSION_LINE, about)]
struct Args {
    /// Configuration file (YAML, or TOML when it ends in .toml).
    #[arg(long = "config.file", value_name = "PATH")]
    config_file: Option<PathBuf>,
    /// Validate the configuration (and the web configuration file) and exit.
    #[arg(long = "config.check")]
    config_check: bool,
    /// Address to listen on; ":PORT" listens on every interface, IPv4 and IPv6. Give it
    /// more than once to listen on several addresses, each serving the same endpoints.
    #[arg(
        long = "web.listen-address",
        default_value = ":9866",
        value_name = "ADDR"
    )]
    listen_address: Vec<String>,
    /// Serve on the sockets systemd passes (socket activation: LISTEN_FDS, LISTEN_PID)
    /// instead of listening on --web.listen-address.
    #[arg(long = "web.systemd-socket")]
    systemd_socket: bool,
    /// Path under which metrics are served.
    #[arg(
        long = "web.telemetry-path",
        default_value = "/metrics",
        value_name = "PATH"
    )]
    telemetry_path: String,
    /// Scrapes served at once; more get 503 (a scrape whose client has taken nothing
    /// for 0.5 s stops counting). 0 means no limit.
    #[arg(long = "web.max-requests", default_value_t = 40, value_name = "N")]
    max_requests: usize,
    /// Open connections at once; a new one replaces the one idle longest, or is closed
    /// on accept when none is idle.
    #[arg(long = "web.max-connections", default_value_t = 1024, value_name = "N")]
    max_connections: usize,
    /// Allow reloading the configuration with POST or PUT on /-/reload (SIGHUP always
    /// reloads it).
    #[arg(long = "web.enable-lifecycle")]
    enable_lifecycle: bool,
    /// Leave out the exporter's own process_* and cognito_exporter_http_* metrics.
    #[arg(long = "web.disable-exporter-metrics")]
    disable_exporter_metrics: bool,
    /// Web configuration file (TLS, basic auth, headers), in the Prometheus exporter format.
    #[arg(long = "web.config.file", value_name = "PATH")]
    web_config_file: Option<PathBuf>,
    /// Only log messages at this level or above.
    #[arg(long = "log.level", default_value = "info", value_parser = ["debug", "info", "warn", "error"])]
    log_level: String,
    /// Log line format.
    #[arg(long = "log.format", default_value = "logfmt", value_enum)]
    log_format: LogFormat,
    /// This process's shard of the targets, 0 to --total-shards - 1; "auto" takes it
    /// from the trailing -N of the host name (a StatefulSet pod's ordinal).
    #[arg(long, default_value = "0", value_name = "N|auto")]
    shard: String,
    /// Shards the targets are split across: each (account, region) is polled by one.
    #[arg(long = "total-shards", default_value_t = 1, value_name = "M")]
    total_shards: u32,
    /// Poll a built-in Cognito simulator with seeded pools instead of AWS.
    #[arg(long)]
    demo: bool,
    /// With --demo: where the simulator listens (IP:PORT; port 0 picks a free one), for
    /// the aws CLI to drive it.
    #[arg(
        long = "demo.simulator-address",
        default_value = "127.0.0.1:0",
        value_name = "ADDR"
    )]
    demo_simulator_address: String,
    /// poll.interval: time between the starts of two cycles (e.g. 30s, 5m), 1s to 24h.
    #[arg(long = "poll.interval", value_name = "DURATION")]
    poll_interval: Option<String>,
    /// poll.timeout: limit on one AWS operation, retries included, 1s to 1h.
    #[arg(long = "poll.timeout", value_name = "DURATION")]
    poll_timeout: Option<String>,
    /// poll.requests_per_second: API calls started per second per target, 0.01 to 10000.
    #[arg(long = "poll.requests-per-second", value_name = "RATE")]
    poll_requests_per_second: Option<f64>,
    /// poll.concurrency: API calls in flight per target, 1 to 256.
    #[arg(long = "poll.concurrency", value_name = "N")]
    poll_concurrency: Option<u64>,
    /// poll.max_staleness: how long a failing pool keeps its last known configuration,
    /// 1s to 30d.
    #[arg(long = "poll.max-staleness", value_name = "DURATION")]
    poll_max_staleness: Option<String>,
    /// poll.cycle_timeout: the longest one cycle of a target may run, 1s to 30d.
    #[arg(long = "poll.cycle-timeout", value_name = "DURATION")]
    poll_cycle_timeout: Option<String>,
    /// poll.describe_interval: how often each pool's feature plan and threat protection
    /// are read again when nothing shows they changed, 1s to 30d.
    #[arg(long = "poll.describe-interval", value_name = "DURATION")]
    poll_describe_interval: Option<String>,
    /// Print the man page (roff) to standard output and exit, as the --help-man of the
    /// Prometheus tools does; the Debian package's page comes from it.
    #[arg(long = "help-man", hide = true)]
    help_man: bool,
}

/// What `--version` prints after the name: the version and the revision that
/// `cognito_exporter_build_info` carries.
const VERSION_LINE: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (revision ",
    env!("COGNITO_BUILD_REVISION"),
    ")"
);

/// Exit code for a bad configuration, as the Prometheus tools use it.
const CONFIG_ERROR: u8 = 2;

fn main() -> ExitCode {
    let matches = Args::command().get_matches();
    let args = Args::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if args.help_man {
        return print_man_page();
    }
    // First, while this is the only thread: taking them unsets LISTEN_FDS.
    let activated = (args.systemd_socket && !args.config_check).then(http::systemd_sockets);
    logging::init(&args.log_level, args.log_format);
    let flags = FlagOverrides {
        interval: args.poll_interval.clone(),
        timeout: args.poll_timeout.clone(),
        requests_per_second: args.poll_requests_per_second,
        concurrency: args.poll_concurrency,
        max_staleness: args.poll_max_staleness.clone(),
        cycle_timeout: args.poll_cycle_timeout.clone(),
        describe_interval: args.poll_describe_interval.clone(),
    };
    let mut problems = Vec::new();
    let config = match config::load(args.config_file.as_deref(), &flags) {
        Ok(config) => Some(config),
        Err(errors) => {
            problems.extend(errors.problems().iter().map(ToString::to_string));
            None
        }
    };
    let security = match &args.web_config_file {
        None => None,
        Some(path) => match WebSecurity::from_file(path, &http::server_info()) {
            Ok(security) => Some(security),
            Err(errors) => {
                problems.push(errors.to_string());
                None
            }
        },
    };
    let listen = match activated {
        Some(Ok(sockets)) => Some(Listen::Activated(sockets)),
        Some(Err(e)) => {
            problems.push(format!("--web.systemd-socket: {e}"));
            None
        }
        None if args.systemd_socket => Some(Listen::Activated(Vec::new())),
        None => match listen_addresses(&args.listen_address) {
            Ok(addrs) => Some(Listen::Addresses(addrs)),
            Err(e) => {
                problems.push(e);
                None
            }
        },
    };
    if !args.telemetry_path.starts_with('/')
        || matches!(
            args.telemetry_path.as_str(),
            "/" | "/-/healthy" | "/-/ready" | "/-/reload"
        )
    {
        problems.push(format!(
            "--web.telemetry-path: {:?} must start with / and differ from /, /-/healthy, /-/ready and /-/reload",
            args.telemetry_path
        ));
    }
    let shard = match Shard::from_flags(&args.shard, args.total_shards, &hostname()) {
        Ok(shard) => Some(shard),
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    };
    let simulator_address = match args.demo_simulator_address.parse::<SocketAddr>() {
        Ok(addr) => Some(addr),
        Err(e) => {
            problems.push(format!(
                "--demo.simulator-address: {:?} is not an IP:PORT address: {e}",
                args.demo_simulator_address
            ));
            None
        }
    };
    if args.demo && !cfg!(feature = "demo") {
        problems.push(
            "--demo: this binary was built without the simulator (cargo feature \"demo\")"
                .to_string(),
        );
    }
    let (Some(config), Some(listen), Some(shard), Some(simulator_address), true) = (
        config,
        listen,
        shard,
        simulator_address,
        problems.is_empty(),
    ) else {
        for p in &problems {
            eprintln!("cognito-exporter: invalid configuration: {p}");
        }
        return ExitCode::from(CONFIG_ERROR);
    };
    if args.config_check {
        // What a start would log as warnings; the configuration is still valid.
        for warning in config
            .warnings
            .iter()
            .cloned()
            .chain(web_warnings(security.as_ref()))
        {
            eprintln!("cognito-exporter: warning: {warning}");
        }
        match &config.discovery {
            Some(d) => println!(
                "configuration OK: {} static target(s), and the accounts of the organization in {} region(s)",
                config.targets.len(),
                d.regions.len()
            ),
            None => println!("configuration OK: {} target(s)", config.targets.len()),
        }
        return ExitCode::SUCCESS;
    }
    for warning in &config.warnings {
        tracing::warn!("{warning}");
    }
    for warning in web_warnings(security.as_ref()) {
        tracing::warn!("{warning}");
    }
    if args.systemd_socket
        && matches.value_source("listen_address") == Some(ValueSource::CommandLine)
    {
        tracing::warn!(
            "--web.listen-address is ignored with --web.systemd-socket: serving on the sockets systemd passed"
        );
    }
    let server = ServerOptions {
        telemetry_path: args.telemetry_path.clone(),
        max_requests: args.max_requests,
        max_connections: args.max_connections,
        demo: args.demo,
        security,
        enable_lifecycle: args.enable_lifecycle,
        exporter_metrics: !args.disable_exporter_metrics,
        ..ServerOptions::default()
    };
    let reload_from = (args.config_file.clone(), flags);
    // Two workers whatever the core count: polling waits on the network and a scrape
    // hands out prepared bytes, so more threads would only add stacks and allocator
    // arenas to the resident memory (one worker takes 4.5 MiB off at 10,000 pools but
    // slows gzip scrapes; see BENCHMARKS.md). TOKIO_WORKER_THREADS, when set, decides
    // instead. Blocking threads serve DNS lookups and file reads.
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if std::env::var_os("TOKIO_WORKER_THREADS").is_none() {
        builder.worker_threads(std::thread::available_parallelism().map_or(2, |n| n.get().min(2)));
    }
    let runtime = match builder.max_blocking_threads(8).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cognito-exporter: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Before anything else starts: an address taken is a start-up error like a bad flag.
    let mut listeners = Vec::new();
    match listen {
        Listen::Addresses(addresses) => {
            for address in addresses {
                match runtime.block_on(http::listen(address)) {
                    Ok(listener) => listeners.push(listener),
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen");
                        return ExitCode::from(CONFIG_ERROR);
                    }
                }
            }
        }
        Listen::Activated(sockets) => {
            let _runtime = runtime.enter();
            for socket in sockets {
                match tokio::net::TcpListener::from_std(socket) {
                    Ok(listener) => listeners.push(listener),
                    Err(e) => {
                        tracing::error!(error = %e, "--web.systemd-socket: cannot serve a socket systemd passed");
                        return ExitCode::from(CONFIG_ERROR);
                    }
                }
            }
        }
    }
    let simulator_listener = if args.demo {
        match runtime.block_on(tokio::net::TcpListener::bind(simulator_address)) {
            Ok(listener) => Some(listener),
            Err(e) => {
                tracing::error!(error = %e, address = %simulator_address, "--demo.simulator-address: cannot listen");
                return ExitCode::from(CONFIG_ERROR);
            }
        }
    } else {
        None
    };
    match runtime.block_on(serve(
        config,
        listeners,
        server,
        simulator_listener,
        shard,
        reload_from,
    )) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ RunError::Target { .. }) => {
            tracing::error!(error = %e, "cannot set up a target");
            ExitCode::from(CONFIG_ERROR)
        }
        Err(e) => {
            tracing::error!(error = %e, "exporter failed");
            ExitCode::FAILURE
        }
    }
}

/// `--help-man`: the man page in roff, made from the flags' definitions above so that it
/// never drifts from `--help`.
fn print_man_page() -> ExitCode {
    let mut page = Vec::new();
    let written = clap_mangen::Man::new(Args::command())
        .render(&mut page)
        .and_then(|()| std::io::Write::write_all(&mut std::io::stdout().lock(), &page));
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cognito-exporter: cannot write the man page: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(
    config: Config,
    listeners: Vec<tokio::net::TcpListener>,
    server: ServerOptions,
    simulator_listener: Option<tokio::net::TcpListener>,
    shard: Shard,
    (file, flags): (Option<PathBuf>, FlagOverrides),
) -> Result<(), RunError> {
    let shutdown = CancellationToken::new();
    // Before anyone is told the exporter runs: from then on a SIGHUP reloads.
    let hangups = match cognito_exporter::hangups_now() {
        Ok(signal) => Some(signal),
        Err(e) => {
            tracing::warn!(error = %e, "cannot listen for SIGHUP: reload through /-/reload");
            None
        }
    };
    let demo = simulator_listener.is_some();
    let (config, clients, simulator) = simulator::start(config, simulator_listener).await?;
    let demo_endpoint = simulator::endpoint(simulator.as_ref());
    // One line per address, each with everything a reader of the first wants.
    for listener in &listeners {
        tracing::info!(
            address = %listener.local_addr()?,
            telemetry_path = %server.telemetry_path,
            version = cognito_exporter::VERSION,
            targets = config.targets.len(),
            discovery = config.discovery.is_some(),
            shard = shard.ordinal(),
            total_shards = shard.total(),
            "listening"
        );
    }
    if demo {
        tracing::warn!(
            "demo mode: polling the built-in Cognito simulator; every value is simulated, no AWS account is polled"
        );
    }
    if let Some(security) = &server.security {
        // Certificates and the file rotate without a restart.
        security.spawn_reloader(Duration::from_secs(30), shutdown.clone());
    }
    tokio::spawn(stop_on_signal(shutdown.clone()));
    // A reload reads the file and the environment again; the flags stay as given.
    let reloader: Reloader = Box::new(move || {
        let mut config = config::load(file.as_deref(), &flags).map_err(|e| {
            e.problems()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        })?;
        if let Some(endpoint) = &demo_endpoint {
            simulator::point(&mut config, endpoint);
        }
        Ok(config)
    });
    let fleet = FleetOptions {
        clients,
        shard,
        reloader: Some(reloader),
        hangups,
    };
    let served = cognito_exporter::run(config, listeners, server, fleet, shutdown).await;
    simulator::stop(simulator);
    served
}

/// Where the server listens: the addresses given, or the sockets systemd passed.
enum Listen {
    Addresses(Vec<ListenAddress>),
    Activated(Vec<std::net::TcpListener>),
}

/// The addresses of every `--web.listen-address`: each must parse, and none may be
/// given twice (port 0 excepted: each such address gets a port of its own).
fn listen_addresses(given: &[String]) -> Result<Vec<ListenAddress>, String> {
    let mut addrs: Vec<ListenAddress> = Vec::with_capacity(given.len());
    for arg in given {
        let addr = ListenAddress::parse(arg).map_err(|e| format!("--web.listen-address: {e}"))?;
        if addr.port() != 0 && addrs.contains(&addr) {
            return Err(format!("--web.listen-address: {arg:?} is given twice"));
        }
        addrs.push(addr);
    }
    Ok(addrs)
}

/// The warnings of the web configuration file, if one was given.
fn web_warnings(security: Option<&WebSecurity>) -> impl Iterator<Item = String> {
    security
        .into_iter()
        .flat_map(|s| s.config().warnings.clone())
}

/// The host name, for `--shard auto`: `HOSTNAME` when set (as in every Kubernetes pod),
/// else the kernel's.
fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_default()
}

/// Cancels `shutdown` on SIGTERM or SIGINT.
async fn stop_on_signal(shutdown: CancellationToken) {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight scrapes");
    shutdown.cancel();
}
