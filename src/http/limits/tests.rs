//! The connection and scrape caps: who makes room for whom.

use super::*;

fn limits(max_connections: usize, max_requests: usize) -> Arc<Limits> {
    Arc::new(Limits::new(&ServerOptions {
        max_connections,
        max_requests,
        stalled_after: Duration::from_secs(1),
        ..ServerOptions::default()
    }))
}

#[tokio::test(start_paused = true)]
async fn at_the_cap_the_connection_idle_longest_makes_room() {
    let limits = limits(3, 0);
    let a = limits.admit().expect("room");
    let b = limits.admit().expect("room");
    let c = limits.admit().expect("room");
    // `a` works, then goes idle again: now `b` has been idle longest.
    drop(a.handle().request());
    let _busy_c = c.handle().request();
    let d = limits.admit().expect("b makes room");
    assert!(b.handle().shared().cut().is_cancelled());
    assert!(!a.handle().shared().cut().is_cancelled());
    let e = limits.admit().expect("a makes room");
    assert!(a.handle().shared().cut().is_cancelled());
    let _busy_d = d.handle().request();
    let _busy_e = e.handle().request();
    assert!(
        limits.admit().is_none(),
        "every connection left is busy: the new one is refused"
    );
    assert!(!c.handle().shared().cut().is_cancelled());
    drop(c);
    assert!(
        limits.admit().is_some(),
        "a closed connection frees its place"
    );
}

#[tokio::test(start_paused = true)]
async fn a_scrape_stalled_on_its_client_stops_counting_at_the_cap() {
    let limits = limits(10, 1);
    let stuck = limits.admit().expect("room");
    let scraper = limits.admit().expect("room");
    let held = stuck.handle().scrape().expect("a free slot");
    stuck.handle().shared().wrote(false);
    tokio::time::advance(Duration::from_millis(999)).await;
    assert!(
        scraper.handle().scrape().is_none(),
        "not stalled long enough"
    );
    tokio::time::advance(Duration::from_millis(1)).await;
    let taken = scraper
        .handle()
        .scrape()
        .expect("the stalled scrape gave way");
    drop(held);
    assert!(
        scraper.handle().scrape().is_none(),
        "the stalled scrape's end does not free the slot twice"
    );
    drop(taken);
    let again = scraper.handle().scrape().expect("freed");
    // A scrape whose client keeps taking its response keeps its slot.
    scraper.handle().shared().wrote(false);
    tokio::time::advance(Duration::from_millis(900)).await;
    scraper.handle().shared().wrote(true);
    scraper.handle().shared().wrote(false);
    tokio::time::advance(Duration::from_millis(900)).await;
    assert!(stuck.handle().scrape().is_none());
    drop(again);
}

#[tokio::test(start_paused = true)]
async fn no_limit_on_scrapes_means_none() {
    let limits = limits(10, 0);
    let conn = limits.admit().expect("room");
    let slots: Vec<_> = (0..100).map(|_| conn.handle().scrape()).collect();
    assert!(slots.iter().all(Option::is_some));
}

#[tokio::test(start_paused = true)]
async fn a_connection_is_busy_from_its_request_to_the_end_of_its_response() {
    let limits = limits(10, 0);
    let conn = limits.admit().expect("room");
    let shared = conn.handle().shared();
    assert_eq!(shared.busy_since(), None);
    let first = conn.handle().request();
    let since = shared.busy_since().expect("busy");
    tokio::time::advance(Duration::from_secs(1)).await;
    let second = conn.handle().request();
    assert_eq!(
        shared.busy_since(),
        Some(since),
        "the oldest request counts"
    );
    drop(first);
    assert_eq!(shared.busy_since(), Some(since));
    drop(second);
    assert_eq!(shared.busy_since(), None);
}
