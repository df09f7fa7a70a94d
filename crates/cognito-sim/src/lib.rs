//! `cognito-sim`: an Amazon Cognito user-pool, STS and Organizations simulator, with the
//! CloudWatch Logs, S3 and Firehose calls a log-destination check makes, speaking the
//! real wire protocols (AWS JSON 1.1 for Cognito, Organizations, Logs and Firehose, AWS
//! Query for STS, REST-XML for S3), so the AWS SDKs, boto3 and the aws CLI work against
//! it with `--endpoint-url`. It
//! owns the simulated pools and organization, the fault injection used to test the
//! exporter's error handling, and the counters that say what really happened.
//!
//! Operations: `ListUserPools`, `DescribeUserPool`, `CreateUserPool`, `UpdateUserPool`,
//! `DeleteUserPool`, `GetLogDeliveryConfiguration`, `SetLogDeliveryConfiguration`; STS
//! `GetCallerIdentity` and `AssumeRole`; Organizations `DescribeOrganization`,
//! `ListRoots`, `ListAccounts`, `ListAccountsForParent`,
//! `ListOrganizationalUnitsForParent`; CloudWatch Logs `CreateLogGroup`,
//! `DeleteLogGroup`, `DescribeLogGroups`; S3 `CreateBucket`, `HeadBucket`,
//! `DeleteBucket` (path-style); Firehose `CreateDeliveryStream`, `DeleteDeliveryStream`,
//! `DescribeDeliveryStream`.
//!
//! Identity: SigV4 signatures are not verified, but the `Authorization` header must be
//! present (else `MissingAuthenticationTokenException`); its credential scope gives the
//! access key and region. State is namespaced by (account, region). Access keys issued by
//! `AssumeRole` belong to the account in the role's ARN (and expire, answering
//! `ExpiredTokenException`); any other key belongs to the default account, which is the
//! organization's management account. Member accounts ([`SimOptions::accounts`],
//! [`SimState::add_account`]) have pools of their own, reached by assuming a role in them.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use cognito_sim::{self as sim, ErrorCode, FaultRule, FaultSet, SimOptions};
//!
//! let sim = sim::spawn(SimOptions { pools_per_region: 12, ..SimOptions::default() }).await?;
//! println!("endpoint {}", sim.endpoint_url());
//! sim.state()
//!     .set_faults(FaultSet {
//!         rules: vec![FaultRule::error(ErrorCode::ThrottlingException).operation("ListUserPools").count(2)],
//!         ..FaultSet::default()
//!     })
//!     .expect("valid fault set");
//! // ... drive an SDK client at sim.endpoint_url() ...
//! let stats = sim.state().stats();
//! assert_eq!(stats.operation("ListUserPools").injected("ThrottlingException"), 2);
//! sim.shutdown().await
//! # }
//! ```

#![warn(missing_docs)]

mod api;
mod auth;
mod body;
mod cognito;
mod control;
mod credentials;
mod destinations;
mod error;
mod fault_spec;
mod faults;
mod firehose;
mod ids;
mod inject;
mod logs;
mod mangle;
mod model;
mod operations;
mod org_admin;
mod organization;
mod organizations;
mod pagination;
mod plans;
mod protocol;
mod s3;
mod seed;
mod server;
mod state;
mod stats;
mod sts;
mod validation;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

pub use destinations::{BucketTaken, DeliveryStreamStatus};
pub use error::{ApiError, ErrorCode};
pub use faults::{EnumField, Fault, FaultError, FaultRule, FaultSet, RateLimit};
pub use model::{Destination, LogConfiguration};
pub use organization::{AccountInfo, AccountState, OrganizationError, OrganizationalUnit};
pub use plans::{AdvancedSecurityMode, UserPoolTier};
pub use state::{PoolInfo, SimState};
pub use stats::{OpCounts, Stats};

/// The account static access keys belong to unless configured otherwise.
pub const DEFAULT_ACCOUNT_ID: &str = "123456789012";

/// How the simulator starts.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// The account of static (non-`AssumeRole`) access keys.
    pub account_id: String,
    /// Regions where every account (the default one and each member) gets
    /// `pools_per_region` seeded pools.
    pub regions: Vec<String>,
    /// How many pools to seed in each of `regions`, per account.
    pub pools_per_region: usize,
    /// Member accounts to seed in the organization besides the management account (the
    /// default account): named `prod-NNN`, `dev-NNN`, `sandbox-NNN`, spread over OUs.
    pub accounts: usize,
    /// Drives pool IDs, access keys, request IDs and the default fault RNG seed.
    pub seed: u64,
    /// Lifetime of `AssumeRole` credentials when the request names no `DurationSeconds`.
    pub assume_role_lifetime: Duration,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            account_id: DEFAULT_ACCOUNT_ID.to_owned(),
            regions: vec!["us-east-1".to_owned()],
            pools_per_region: 0,
            accounts: 0,
            seed: 0,
            assume_role_lifetime: Duration::from_secs(3600),
        }
    }
}

/// A simulator, seeded and ready to serve.
pub struct Simulator {
    state: Arc<SimState>,
}

impl Simulator {
    /// Builds the state and seeds the pools and the organization.
    pub fn new(options: SimOptions) -> Self {
        let mut state = SimState::new(
            options.account_id,
            options.seed,
            options.assume_role_lifetime,
        );
        state.seeded_regions = options.regions;
        state.seeded_pools = options.pools_per_region;
        for region in &state.seeded_regions {
            seed::seed(
                &state,
                state.default_account(),
                region,
                options.pools_per_region,
            );
        }
        seed::organization(&state, options.accounts, options.pools_per_region);
        Simulator {
            state: Arc::new(state),
        }
    }

    /// The state, shared with the server: read and change it while it serves.
    pub fn state(&self) -> Arc<SimState> {
        Arc::clone(&self.state)
    }

    /// Serves on `listener` until `shutdown` is cancelled and open connections end.
    pub async fn serve(self, listener: TcpListener, shutdown: CancellationToken) -> io::Result<()> {
        server::serve(self.state, listener, shutdown).await
    }
}

/// A simulator serving on `127.0.0.1` in a background task; dropping it stops the server.
pub struct RunningSim {
    addr: SocketAddr,
    state: Arc<SimState>,
    shutdown: CancellationToken,
    task: JoinHandle<io::Result<()>>,
    _stop_on_drop: DropGuard,
}

impl RunningSim {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, for an SDK's `endpoint_url`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The state the server works on: read and change it while it serves.
    pub fn state(&self) -> Arc<SimState> {
        Arc::clone(&self.state)
    }

    /// Stops the server and waits for open connections to end.
    pub async fn shutdown(self) -> io::Result<()> {
        self.shutdown.cancel();
        self.task.await.map_err(io::Error::other)?
    }
}

/// Starts a simulator on `127.0.0.1:0`. It stops when [`RunningSim::shutdown`] is
/// called or the [`RunningSim`] is dropped.
pub async fn spawn(options: SimOptions) -> io::Result<RunningSim> {
    let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
    let addr = listener.local_addr()?;
    let sim = Simulator::new(options);
    let state = sim.state();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(sim.serve(listener, shutdown.clone()));
    Ok(RunningSim {
        addr,
        state,
        _stop_on_drop: shutdown.clone().drop_guard(),
        shutdown,
        task,
    })
}
