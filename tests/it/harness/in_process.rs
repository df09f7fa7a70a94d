//! The simulator and the exporter in this process, each on a loopback port, with the
//! exporter's real AWS SDK clients pointed at the simulator.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use cognito_exporter::FleetOptions;
use cognito_exporter::aws::ClientOptions;
use cognito_exporter::config::{ChecksConfig, Config, PolicyConfig, PollConfig, TargetConfig};
use cognito_exporter::http::ServerOptions;
use cognito_sim::{self as sim, FaultRule, FaultSet, RunningSim, SimOptions};
use tokio::net::{TcpListener, TcpSocket};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The account the simulator's pools belong to unless a test says otherwise.
pub(crate) const ACCOUNT: &str = "123456789012";
/// The region of the default simulator and target.
pub(crate) const REGION: &str = "eu-west-1";

/// An exporter serving on `addr` until `shutdown`; `task` is its `run`.
pub(crate) struct Exporter {
    pub(crate) addr: SocketAddr,
    pub(crate) shutdown: CancellationToken,
    pub(crate) task: JoinHandle<Result<(), cognito_exporter::RunError>>,
}

/// Static keys: the simulator accepts any, and the SDK then never looks at the machine's
/// own credentials.
fn credentials() -> ClientOptions {
    ClientOptions {
        credentials: Some(aws_credential_types::Credentials::new(
            "AKIDE2ETEST0000",
            "e2e-secret",
            None,
            None,
            "e2e",
        )),
    }
}

/// A simulator serving [`REGION`], with no pools yet.
pub(crate) async fn simulator() -> RunningSim {
    simulator_with(SimOptions {
        regions: vec![REGION.into()],
        ..SimOptions::default()
    })
    .await
}

pub(crate) async fn simulator_with(options: SimOptions) -> RunningSim {
    sim::spawn(options).await.expect("simulator starts")
}

/// Faults made of `rules` alone, for `set_faults`.
pub(crate) fn fault_set(rules: Vec<FaultRule>) -> FaultSet {
    FaultSet {
        rules,
        ..FaultSet::default()
    }
}

/// A target polling `sim` in its region.
pub(crate) fn target(sim: &RunningSim) -> TargetConfig {
    TargetConfig {
        region: Some(REGION.into()),
        endpoint_url: Some(sim.endpoint_url()),
        ..TargetConfig::default()
    }
}

/// A cycle every 300 ms, with a rate and a concurrency no test reaches by accident.
pub(crate) fn fast_poll() -> PollConfig {
    PollConfig {
        interval: Duration::from_millis(300),
        timeout: Duration::from_secs(5),
        requests_per_second: 500.0,
        concurrency: 4,
        max_staleness: Duration::from_secs(60),
        cycle_timeout: Duration::from_secs(60),
        describe_interval: Duration::from_secs(24 * 3600),
    }
}

pub(crate) async fn start(targets: Vec<TargetConfig>, poll: PollConfig) -> Exporter {
    start_with(targets, poll, ServerOptions::default()).await
}

/// Logs of the code under test, shown with a failing test's output.
fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(cognito_exporter::logging::filter("debug"))
        .with_test_writer()
        .try_init();
}

/// Starts `run` on a fresh loopback port; the port listens before this returns.
pub(crate) async fn start_with(
    targets: Vec<TargetConfig>,
    poll: PollConfig,
    server: ServerOptions,
) -> Exporter {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start_on(listener, targets, poll, server)
}

/// [`start_with`], the listening socket's send buffer at its smallest; the connections
/// it accepts inherit it. A client that does not read then leaves a response of a few
/// tens of kilobytes unsent, as it would one of many megabytes with the kernel's
/// defaults, so a test needs a few hundred pools instead of thousands.
pub(crate) async fn start_with_small_buffers(
    targets: Vec<TargetConfig>,
    poll: PollConfig,
    server: ServerOptions,
) -> Exporter {
    let socket = TcpSocket::new_v4().expect("socket");
    socket.set_send_buffer_size(4096).expect("SO_SNDBUF");
    socket
        .bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .expect("bind");
    start_on(socket.listen(1024).expect("listen"), targets, poll, server)
}

/// `pools` pools in `sim`, named `prod-pool-00000` on; returns the last one's name.
pub(crate) fn create_pools(sim: &RunningSim, pools: usize) -> String {
    let state = sim.state();
    let mut last = String::new();
    for i in 0..pools {
        last = format!("prod-pool-{i:05}");
        state.create_pool(ACCOUNT, REGION, &last);
    }
    last
}

/// A poll that reads thousands of pools in a few seconds, once a minute.
pub(crate) fn bulk_poll() -> PollConfig {
    PollConfig {
        requests_per_second: 10_000.0,
        concurrency: 32,
        interval: Duration::from_secs(60),
        ..fast_poll()
    }
}

fn start_on(
    listener: TcpListener,
    targets: Vec<TargetConfig>,
    poll: PollConfig,
    server: ServerOptions,
) -> Exporter {
    let config = Config {
        poll,
        targets,
        discovery: None,
        checks: ChecksConfig::default(),
        policy: PolicyConfig::default(),
        warnings: Vec::new(),
    };
    start_config_on(listener, config, server)
}

/// Starts `run` with a whole configuration, such as one read from YAML by
/// [`config_from_yaml`].
pub(crate) async fn start_config(config: Config) -> Exporter {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    start_config_on(listener, config, ServerOptions::default())
}

/// A configuration as the exporter reads it from a file, validated.
pub(crate) fn config_from_yaml(yaml: &str) -> Config {
    use figment::providers::Format as _;
    let figment = figment::Figment::from(figment::providers::Yaml::string(yaml));
    match cognito_exporter::config::from_figment(&figment) {
        Ok(config) => config,
        Err(e) => panic!("a valid configuration:\n{e}\n{yaml}"),
    }
}

fn start_config_on(listener: TcpListener, config: Config, server: ServerOptions) -> Exporter {
    init_logs();
    let addr = listener.local_addr().expect("addr");
    let shutdown = CancellationToken::new();
    let fleet = FleetOptions {
        clients: credentials(),
        ..FleetOptions::default()
    };
    let task = tokio::spawn(cognito_exporter::run(
        config,
        vec![listener],
        server,
        fleet,
        shutdown.clone(),
    ));
    Exporter {
        addr,
        shutdown,
        task,
    }
}
