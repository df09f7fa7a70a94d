//! Basic auth under a flood of wrong passwords: real bcrypt hashes at the cost operators
//! use, a couple of hundred concurrent clients, plain HTTP on loopback so that the CPU
//! goes to bcrypt rather than to handshakes. Every flood is bounded in clients, in
//! requests per client and in time; every wait has a deadline.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::support::{PASSWORD, Reply, get_plain};

/// The cost `htpasswd -nBC 10` gives, as operators' files have it.
const COST: u32 = 10;
/// Concurrent clients sending wrong passwords.
const FLOOD_CLIENTS: usize = 200;
/// Requests each flood client sends at most; the test stops the flood sooner.
const REQUESTS_PER_CLIENT: usize = 30;
/// The longest any wait of this test may take before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// What one flood request was answered.
#[derive(Debug)]
struct Answer {
    status: String,
    retry_after: Option<String>,
    challenge: Option<String>,
}

impl Answer {
    fn of(reply: &Reply) -> Self {
        Self {
            status: reply.status().to_owned(),
            retry_after: reply.header("retry-after").map(str::to_owned),
            challenge: reply.header("www-authenticate").map(str::to_owned),
        }
    }
}

/// Clients sending wrong passwords for one user name, each one request at a time.
struct Flood {
    stop: CancellationToken,
    /// Requests started.
    sent: Arc<AtomicUsize>,
    /// Requests answered 429.
    busy: Arc<AtomicUsize>,
    clients: Vec<JoinHandle<Vec<Answer>>>,
}

impl Flood {
    fn start(addr: std::net::SocketAddr, user: &'static str) -> Self {
        let stop = CancellationToken::new();
        let sent = Arc::new(AtomicUsize::new(0));
        let busy = Arc::new(AtomicUsize::new(0));
        let clients = (0..FLOOD_CLIENTS)
            .map(|client| {
                let (stop, sent, busy) = (stop.clone(), sent.clone(), busy.clone());
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    for n in 0..REQUESTS_PER_CLIENT {
                        let password = format!("wrong-{client}-{n}");
                        sent.fetch_add(1, Ordering::Relaxed);
                        let reply = tokio::select! {
                            () = stop.cancelled() => break,
                            reply = get_plain(addr, Some((user, &password))) => reply,
                        };
                        let answer = match reply {
                            Ok(reply) => Answer::of(&reply),
                            Err(e) => Answer {
                                status: format!("no answer: {e}"),
                                retry_after: None,
                                challenge: None,
                            },
                        };
                        if answer.status == "429" {
                            busy.fetch_add(1, Ordering::Relaxed);
                        }
                        answers.push(answer);
                    }
                    answers
                })
            })
            .collect();
        Self {
            stop,
            sent,
            busy,
            clients,
        }
    }

    /// Waits until every client has a request in flight and the server is running
    /// bcrypt for them.
    async fn until_engaged(&self, security: &web_config::WebSecurity) {
        let bcrypt_before = security.bcrypt_verifications();
        wait_until("the flood is engaged", || {
            self.sent.load(Ordering::Relaxed) >= FLOOD_CLIENTS
                && security.bcrypt_verifications() >= bcrypt_before + 2
        })
        .await;
    }

    /// Waits until the server has turned at least one flood request away with 429.
    async fn until_turned_away(&self) {
        wait_until("a flood request answered 429", || {
            self.busy.load(Ordering::Relaxed) > 0
        })
        .await;
    }

    /// Stops every client and returns what they were answered.
    async fn stop(self) -> Vec<Answer> {
        self.stop.cancel();
        let mut answers = Vec::new();
        for client in self.clients {
            let client = tokio::time::timeout(PATIENCE, client).await;
            answers.extend(client.expect("a flood client stops").expect("client task"));
        }
        answers
    }
}

async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within {PATIENCE:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `request` answered within `deadline`, and how long it took.
async fn within(
    deadline: Duration,
    what: &str,
    request: impl Future<Output = Result<Reply, String>>,
) -> (Reply, Duration) {
    let started = Instant::now();
    let reply = tokio::time::timeout(deadline, request)
        .await
        .unwrap_or_else(|_| panic!("{what}: no answer within {deadline:?}"))
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let took = started.elapsed();
    println!("{what}: {} in {took:?}", reply.status());
    (reply, took)
}

fn hash(password: &str) -> String {
    bcrypt::hash(password, COST).expect("hash")
}

/// Every flood answer is a refusal: 401 with the challenge, or 429 with `Retry-After`.
fn assert_refusals(answers: &[Answer]) {
    let busy = answers.iter().filter(|a| a.status == "429").count();
    println!(
        "flood: {} answers, {busy} of them 429, the rest 401",
        answers.len()
    );
    for answer in answers {
        match answer.status.as_str() {
            "401" => assert_eq!(
                answer.challenge.as_deref(),
                Some("Basic realm=\"demo-exporter\""),
                "{answer:?}"
            ),
            "429" => {
                assert_eq!(answer.retry_after.as_deref(), Some("1"), "{answer:?}");
                assert_eq!(answer.challenge, None, "{answer:?}");
            }
            _ => panic!("a flood request was answered {answer:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_flood_neither_holds_up_a_first_login_nor_queues_without_bound() {
    let setup = crate::support::Setup::new();
    let (security, server) = setup
        .serve_plain(&format!(
            "basic_auth_users:\n  alice: '{}'\n  bob: '{}'\n  carol: '{}'\n",
            hash(PASSWORD),
            hash("bob's own password"),
            hash(PASSWORD),
        ))
        .await;

    // Someone guesses bob's password as fast as 200 connections allow.
    let flood = Flood::start(server.addr, "bob");
    flood.until_engaged(&security).await;
    // alice's scraper starts now: its first login pays a bcrypt, yet it is served well
    // inside a scrape timeout, because bob's guesses take one bcrypt slot at a time.
    let (first, _) = within(
        Duration::from_secs(1),
        "alice's first login during the flood",
        get_plain(server.addr, Some(("alice", PASSWORD))),
    )
    .await;
    assert_eq!(first.status(), "200", "{first:?}");
    // From then on the cache answers, never waiting for bcrypt; so does a request
    // without credentials, which bcrypt never sees.
    let (again, _) = within(
        Duration::from_secs(1),
        "alice's next login during the flood",
        get_plain(server.addr, Some(("alice", PASSWORD))),
    )
    .await;
    assert_eq!(again.status(), "200", "{again:?}");
    let (anonymous, _) = within(
        Duration::from_secs(1),
        "no credentials during the flood",
        get_plain(server.addr, None),
    )
    .await;
    assert_eq!(anonymous.status(), "401", "{anonymous:?}");
    // The guesses beyond what bcrypt keeps up with are turned away instead of queueing.
    flood.until_turned_away().await;
    assert_refusals(&flood.stop().await);

    // Guessing the very name a scraper uses: nothing tells the scraper from the guesser
    // before bcrypt, so its first login may be turned away too, but promptly (429 with
    // Retry-After, after a short wait), never queued behind every guess.
    let flood = Flood::start(server.addr, "carol");
    flood.until_engaged(&security).await;
    let (first, _) = within(
        Duration::from_secs(3),
        "carol's first login during a flood on carol",
        get_plain(server.addr, Some(("carol", PASSWORD))),
    )
    .await;
    match first.status() {
        "200" => {}
        "429" => assert_eq!(first.header("retry-after"), Some("1"), "{first:?}"),
        _ => panic!("carol's first login: {first:?}"),
    }
    flood.until_turned_away().await;
    assert_refusals(&flood.stop().await);
}
