//! Kept for the interval, checked again after it, once for every pool sharing it; on a
//! paused clock.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::*;

const ARN: &str = "arn:aws:s3:::user-activity";
const HOUR: Duration = Duration::from_secs(3600);

/// A check that counts its calls and answers `status`, learning `region`.
fn counting<'a>(
    calls: &'a AtomicUsize,
    status: DestinationStatus,
    region: Option<&'a str>,
) -> impl FnOnce(Option<String>) -> std::future::Ready<(DestinationStatus, Option<String>)> + 'a {
    move |_| {
        calls.fetch_add(1, Ordering::Relaxed);
        std::future::ready((status, region.map(str::to_owned)))
    }
}

#[tokio::test(start_paused = true)]
async fn a_result_is_kept_for_the_interval_then_checked_again() {
    let cache = Cache::new(HOUR);
    let calls = AtomicUsize::new(0);
    let ok = DestinationStatus::Ok;
    assert_eq!(cache.status(ARN, counting(&calls, ok, None)).await, ok);
    tokio::time::advance(HOUR - Duration::from_secs(1)).await;
    let gone = DestinationStatus::NotFound;
    assert_eq!(cache.status(ARN, counting(&calls, gone, None)).await, ok);
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(cache.status(ARN, counting(&calls, gone, None)).await, gone);
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    // Each ARN is its own entry.
    let other = "arn:aws:s3:::other";
    assert_eq!(cache.status(other, counting(&calls, ok, None)).await, ok);
    assert_eq!(calls.load(Ordering::Relaxed), 3);
}

#[tokio::test(start_paused = true)]
async fn a_failed_check_is_tried_again_after_a_minute() {
    let cache = Cache::new(HOUR);
    let calls = AtomicUsize::new(0);
    let failed = DestinationStatus::CheckFailed;
    let ok = DestinationStatus::Ok;
    assert_eq!(
        cache.status(ARN, counting(&calls, failed, None)).await,
        failed
    );
    tokio::time::advance(RETRY_FAILED - Duration::from_secs(1)).await;
    assert_eq!(cache.status(ARN, counting(&calls, ok, None)).await, failed);
    tokio::time::advance(Duration::from_secs(1)).await;
    assert_eq!(cache.status(ARN, counting(&calls, ok, None)).await, ok);
    assert_eq!(calls.load(Ordering::Relaxed), 2);
    // Refused is an answer about the permissions: kept like any other.
    let denied = DestinationStatus::AccessDenied;
    let other = "arn:aws:s3:::other";
    cache.status(other, counting(&calls, denied, None)).await;
    tokio::time::advance(RETRY_FAILED).await;
    assert_eq!(
        cache.status(other, counting(&calls, ok, None)).await,
        denied
    );
}

#[tokio::test(start_paused = true)]
async fn a_shorter_interval_applies_to_results_already_kept() {
    let cache = Cache::new(HOUR);
    let calls = AtomicUsize::new(0);
    let ok = DestinationStatus::Ok;
    cache.status(ARN, counting(&calls, ok, None)).await;
    tokio::time::advance(Duration::from_secs(120)).await;
    cache.set_interval(Duration::from_secs(60));
    cache.status(ARN, counting(&calls, ok, None)).await;
    assert_eq!(calls.load(Ordering::Relaxed), 2);
}

#[tokio::test(start_paused = true)]
async fn the_bucket_region_learned_is_given_to_the_next_check() {
    let cache = Cache::new(Duration::from_secs(60));
    let ok = DestinationStatus::Ok;
    let first = cache
        .status(ARN, |known| {
            assert_eq!(known, None);
            std::future::ready((ok, Some("ap-southeast-2".to_owned())))
        })
        .await;
    assert_eq!(first, ok);
    tokio::time::advance(Duration::from_secs(60)).await;
    cache
        .status(ARN, |known| {
            assert_eq!(known.as_deref(), Some("ap-southeast-2"));
            // Learning nothing new keeps what was known.
            std::future::ready((ok, None))
        })
        .await;
    tokio::time::advance(Duration::from_secs(60)).await;
    cache
        .status(ARN, |known| {
            assert_eq!(known.as_deref(), Some("ap-southeast-2"));
            std::future::ready((ok, None))
        })
        .await;
}

#[tokio::test(start_paused = true)]
async fn pools_sharing_a_destination_wait_for_one_check() {
    let cache = Arc::new(Cache::new(HOUR));
    let calls = Arc::new(AtomicUsize::new(0));
    let (started, begun) = tokio::sync::oneshot::channel::<()>();
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let first = {
        let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
        tokio::spawn(async move {
            cache
                .status(ARN, |_| async move {
                    calls.fetch_add(1, Ordering::Relaxed);
                    started.send(()).expect("the test waits");
                    released.await.expect("released");
                    (DestinationStatus::KmsEncrypted, None)
                })
                .await
        })
    };
    begun.await.expect("the first check began");
    let second = {
        let (cache, calls) = (Arc::clone(&cache), Arc::clone(&calls));
        tokio::spawn(async move {
            cache
                .status(ARN, counting(&calls, DestinationStatus::Ok, None))
                .await
        })
    };
    // On the test's one thread, this lets the second task run until it waits.
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
    release.send(()).expect("the first check waits");
    assert_eq!(
        first.await.expect("joined"),
        DestinationStatus::KmsEncrypted
    );
    assert_eq!(
        second.await.expect("joined"),
        DestinationStatus::KmsEncrypted
    );
    assert_eq!(calls.load(Ordering::Relaxed), 1);
}

#[tokio::test(start_paused = true)]
async fn destinations_no_pool_asks_about_are_forgotten() {
    let cache = Cache::new(HOUR);
    let calls = AtomicUsize::new(0);
    let ok = DestinationStatus::Ok;
    cache.status(ARN, counting(&calls, ok, None)).await;
    cache
        .status("arn:aws:s3:::kept", counting(&calls, ok, None))
        .await;
    for _ in 0..48 {
        tokio::time::advance(HOUR).await;
        cache
            .status("arn:aws:s3:::kept", counting(&calls, ok, None))
            .await;
    }
    assert_eq!(cache.len(), 1, "only the one still asked about");
}
