//! `cognito-sim`: serves the Cognito, STS and Organizations simulator until SIGINT or
//! SIGTERM. Parses flags, sets up logging, and calls into `cognito_sim`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Parser;
use cognito_sim::{FaultRule, FaultSet, RateLimit, SimOptions, Simulator};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const AFTER_HELP: &str = "\
FAULTS
  --fault takes KIND[,key=value...]; the keys are those of the JSON rules below (`op` is
  short for `operation`). Examples:
    --fault error,code=ThrottlingException,op=ListUserPools,rate=0.2
    --fault error,code=ExpiredTokenException,account=222222222222,count=3
    --fault latency,ms=200,jitter_ms=100     --fault stall,ms=30000,op=DescribeUserPool
    --fault reset,after_bytes=10             --fault truncated_json,count=1
    --fault html_502,rate=0.1                --fault unknown_enum,field=EventSource
    --fault missing_field,field=LogLevel     --fault delete_after_list,count=1
    --fault missing_field,field=Account,op=GetCallerIdentity
    --fault looping_token,count=5            --fault endless_token
  Kinds: error (code, message), latency (ms, jitter_ms), stall (ms), reset (after_bytes),
  truncated_json, html_502, unknown_enum (field: LogLevel|EventSource|UserPoolTier|AdvancedSecurityMode),
  missing_field (field: a JSON member, or for STS an XML element), delete_after_list,
  looping_token (ListUserPools: a NextToken back to the first page, the same every time),
  endless_token (ListUserPools: a NextToken back to the first page, never the same
  twice). Matchers: operation (default: every Cognito operation; STS's
  GetCallerIdentity and AssumeRole, Organizations', CloudWatch Logs', S3's and
  Firehose's operations only by name),
  account (for AssumeRole: the role's account), access_key, region. Firing: rate (0-1,
  default 1), count (at most this many times). Error codes: InvalidParameterException,
  InternalErrorException, TooManyRequestsException, NotAuthorizedException,
  ResourceNotFoundException, AccessDeniedException, UnrecognizedClientException,
  ExpiredTokenException, ThrottlingException; for Organizations also
  AWSOrganizationsNotInUseException, ParentNotFoundException, InvalidInputException,
  ServiceException (its throttling code is TooManyRequestsException):
    --fault error,code=TooManyRequestsException,op=ListAccounts,count=2

ORGANIZATION
  The default account (--account-id) is the management account of an organization
  answering DescribeOrganization, ListRoots, ListAccounts, ListAccountsForParent and
  ListOrganizationalUnitsForParent (only the management account may list). Under the
  root: OUs Production (with Payments inside it), Development and Sandbox. --accounts N
  adds N member accounts (IDs 111100000001, 111100000002, ...; names prod-001, dev-003,
  sandbox-005, ...: prod in Production or Payments, dev in Development, sandbox in
  Sandbox), each with --pools pools in every --region, reached with AssumeRole into
  arn:aws:iam::ID:role/ANY.

CONTROL ENDPOINT (same listener)
  GET    /_sim/health   ok
  GET    /_sim/faults   the fault set in force
  PUT    /_sim/faults   replace it: {\"seed\": 7, \"rate_limit\": {\"per_second\": 5, \"burst\": 5},
                        \"rules\": [{\"kind\": \"error\", \"code\": \"ThrottlingException\",
                        \"operation\": \"ListUserPools\", \"rate\": 0.5}]}
  DELETE /_sim/faults   remove every fault
  GET    /_sim/stats    counts per operation and per account: requests, ok, errors by
                        code, injected faults by code or kind
  DELETE /_sim/stats    zero the counts
  GET    /_sim/organization       the organization: id, root, OUs with their parents
  GET    /_sim/accounts           member accounts: id, name, parent, state,
                                  refuse_assume_role, ...
  POST   /_sim/accounts           add one: {\"name\": \"team-a\", \"parent\": \"ou-...\",
                                  \"pools\": 3} (parent default root, pools default
                                  --pools); answers 201 with the account
  PUT    /_sim/accounts/ID        change one: {\"parent\": \"ou-...\", \"state\": \"SUSPENDED\",
                                  \"refuse_assume_role\": true}, any of the three
  DELETE /_sim/accounts/ID        remove one from the organization (its pools stay)
  PUT    /_sim/destinations/ARN   make sure the log group, bucket or Firehose stream
                                  exists: {\"kms_key_id\": \"...\"} (new log group),
                                  {\"region\": \"eu-west-1\", \"account\": \"...\"} (new
                                  bucket), {\"status\": \"CREATING\"} (stream),
                                  {\"refuse\": true} (its checks are refused)
  DELETE /_sim/destinations/ARN   delete it
  PUT    /_sim/pools/ID/plan      {\"tier\": \"PLUS\", \"threat_protection\": \"AUDIT\"}, as
                                  UpdateUserPool (moves LastModifiedDate)

DESTINATIONS
  CloudWatch Logs (CreateLogGroup, DeleteLogGroup, DescribeLogGroups), Firehose
  (CreateDeliveryStream, DeleteDeliveryStream, DescribeDeliveryStream) and S3
  (CreateBucket, HeadBucket, DeleteBucket; path-style, told by an s3 credential scope
  without X-Amz-Target) answer on the same port. Faults reach them only by name:
    --fault error,code=AccessDeniedException,op=DescribeLogGroups";

/// An Amazon Cognito (user pools), STS and Organizations simulator speaking the real wire
/// protocols, with fault injection. Point an SDK, boto3 or the aws CLI at it with --endpoint-url.
#[derive(Parser, Debug)]
#[command(name = "cognito-sim", version, after_help = AFTER_HELP)]
struct Args {
    /// Address to listen on; port 0 picks a free port. The bound address is printed on
    /// stdout as `listening on http://ADDR`.
    #[arg(long, default_value = "127.0.0.1:4566")]
    listen: String,

    /// Account that static access keys belong to.
    #[arg(long, default_value = cognito_sim::DEFAULT_ACCOUNT_ID)]
    account_id: String,

    /// Region to seed pools in: repeatable, or comma-separated (--regions r1,r2).
    #[arg(
        long = "region",
        visible_alias = "regions",
        value_delimiter = ',',
        default_value = "us-east-1"
    )]
    regions: Vec<String>,

    /// Pools to seed in each --region of every account, with a cycling mix of
    /// log-delivery configurations, feature plans and destinations (12 cover every case).
    #[arg(long, default_value_t = 0)]
    pools: usize,

    /// Member accounts to seed in the organization (see ORGANIZATION below).
    #[arg(long, default_value_t = 0)]
    accounts: usize,

    /// Seed for pool IDs, keys, request IDs and the fault generator.
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Lifetime of AssumeRole credentials when the request names no DurationSeconds
    /// (e.g. 1h, 90s).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    assume_role_lifetime: Duration,

    /// A fault rule, KIND[,key=value...] (repeatable; see FAULTS below).
    #[arg(long = "fault", value_name = "SPEC")]
    faults: Vec<String>,

    /// A JSON fault set, as PUT /_sim/faults takes; --fault rules are appended to it.
    #[arg(long, value_name = "PATH")]
    faults_file: Option<PathBuf>,

    /// Answer TooManyRequestsException above R Cognito requests per second per account,
    /// with an optional burst: R or R/BURST.
    #[arg(long, value_name = "R[/BURST]")]
    rate_limit: Option<String>,

    /// Log filter (RUST_LOG syntax); logs go to stderr.
    #[arg(long, default_value = "info")]
    log_level: String,
}

/// Every problem in the fault flags, not just the first.
fn fault_set(args: &Args) -> anyhow::Result<FaultSet> {
    let mut problems = Vec::new();
    let mut set = match &args.faults_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading --faults-file {}", path.display()))?;
            serde_json::from_str(&text)
                .with_context(|| format!("parsing --faults-file {}", path.display()))?
        }
        None => FaultSet::default(),
    };
    for spec in &args.faults {
        match spec.parse::<FaultRule>() {
            Ok(rule) => set.rules.push(rule),
            Err(e) => problems.push(format!("--fault {spec:?}: {}", e.0.join("; "))),
        }
    }
    if let Some(limit) = &args.rate_limit {
        match limit.parse::<RateLimit>() {
            Ok(limit) => set.rate_limit = Some(limit),
            Err(e) => problems.push(format!("--rate-limit {limit:?}: {e}")),
        }
    }
    if let Err(e) = set.validate() {
        problems.extend(e.0);
    }
    if !problems.is_empty() {
        bail!("invalid fault flags:\n  {}", problems.join("\n  "));
    }
    Ok(set)
}

fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("cognito-sim: starting the runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cognito-sim: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // Colour for a person at a terminal; a redirected log gets plain text.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&args.log_level)
                .with_context(|| format!("--log-level {:?}", args.log_level))?,
        )
        .init();
    let faults = fault_set(&args)?;

    let sim = Simulator::new(SimOptions {
        account_id: args.account_id.clone(),
        regions: args.regions.clone(),
        pools_per_region: args.pools,
        accounts: args.accounts,
        seed: args.seed,
        assume_role_lifetime: args.assume_role_lifetime,
    });
    sim.state().set_faults(faults).context("fault set")?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("binding --listen {}", args.listen))?;
    let addr = listener.local_addr().context("reading the bound address")?;
    // Scripts wait for this line to learn the port; print it before serving.
    println!("listening on http://{addr}");
    tracing::info!(
        %addr,
        pools = args.pools,
        accounts = args.accounts,
        regions = ?args.regions,
        "cognito-sim started"
    );

    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    sim.serve(listener, shutdown).await.context("serving")?;
    tracing::info!("cognito-sim stopped");
    Ok(())
}

async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only SIGINT stops");
                let _ = ctrl_c.await;
            }
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    shutdown.cancel();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_come_repeated_or_comma_separated() {
        let args = Args::try_parse_from([
            "cognito-sim",
            "--regions",
            "us-east-1,eu-west-1",
            "--region",
            "ap-south-1",
            "--accounts",
            "50",
        ])
        .expect("valid flags");
        assert_eq!(args.regions, ["us-east-1", "eu-west-1", "ap-south-1"]);
        assert_eq!(args.accounts, 50);
        let defaults = Args::try_parse_from(["cognito-sim"]).expect("no flags");
        assert_eq!(
            (defaults.regions, defaults.accounts),
            (vec!["us-east-1".to_owned()], 0)
        );
    }
}
