//! Who gets a connection and who gets a scrape when the server is full.
//!
//! Connections (`--web.max-connections`): at the cap, a new connection takes the place
//! of the one that has been idle longest (no request in flight: kept alive between
//! scrapes, or still sending its request head), which is closed; only when every
//! connection has a request in flight is the new one closed on accept. Otherwise a few
//! hundred sockets that connect and say nothing, re-opened whenever they are cut, would
//! hold every place and shut every scraper out.
//!
//! Scrapes (`--web.max-requests`): at the cap, a scrape whose client has taken none of
//! its response for a while (`ServerOptions::stalled_after`) stops counting, so a new
//! scrape can start; the stalled one keeps its connection until it moves again or the
//! write timeout cuts it. The cap bounds the scrapes being sent at once; a client that
//! asks and never reads sends nothing and must not hold a slot.
//!
//! One lock guards the book; it is held for a few map operations at a time. The marks
//! a connection's I/O and task read on every poll (`Shared`) are atomics written under
//! it or by the I/O alone.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::ServerOptions;

/// The caps on connections and scrapes, and the book of who holds what.
#[derive(Debug)]
pub(super) struct Limits {
    max_connections: usize,
    /// `None`: no limit.
    max_scrapes: Option<usize>,
    stalled_after: Duration,
    /// What the stamps in [`Shared`] count from.
    epoch: Instant,
    book: Mutex<Book>,
}

#[derive(Debug, Default)]
struct Book {
    /// Ids of connections and idle tickets, from one sequence: a higher one is newer.
    next: u64,
    /// Scrapes that count toward the cap.
    scrapes: usize,
    /// Open connections that count toward the cap, by id.
    open: HashMap<u64, Entry>,
    /// The idle ones among them, by the ticket each took when it went idle: the first
    /// has been idle longest.
    idle: BTreeMap<u64, u64>,
}

#[derive(Debug)]
struct Entry {
    shared: Arc<Shared>,
    /// Requests whose response has not been handed to the connection in full.
    requests: u32,
    /// Its key in `Book::idle` while `requests` is 0.
    idle_ticket: Option<u64>,
    /// Its scrapes that count toward the cap.
    scrapes: u32,
}

/// What a connection's task, its I/O and the book share.
#[derive(Debug)]
pub(super) struct Shared {
    id: u64,
    epoch: Instant,
    /// Cancelled when the connection is closed to make room for a new one.
    cut: CancellationToken,
    /// When the first of its requests in flight arrived (a stamp), 0 while idle.
    busy_since: AtomicU64,
    /// When its writes began waiting on the client with nothing taken since (a
    /// stamp), 0 while they are not waiting.
    blocked_since: AtomicU64,
    /// Set when the connection is abandoned with its response unsent: it is reset
    /// rather than closed, so the kernel drops the unsent bytes at once.
    reset: AtomicBool,
}

impl Shared {
    /// Resolves once the connection has been closed to make room.
    pub(super) fn cut(&self) -> &CancellationToken {
        &self.cut
    }

    /// When its oldest request in flight arrived; `None` while idle.
    pub(super) fn busy_since(&self) -> Option<Instant> {
        self.instant(self.busy_since.load(Ordering::Acquire))
    }

    /// A write made progress (`true`) or had to wait for the client (`false`).
    pub(super) fn wrote(&self, progressed: bool) {
        if progressed {
            self.blocked_since.store(0, Ordering::Release);
        } else if self.blocked_since.load(Ordering::Acquire) == 0 {
            self.blocked_since
                .store(stamp(self.epoch, Instant::now()), Ordering::Release);
        }
    }

    /// For how long its writes have waited on the client, if they are waiting.
    fn blocked_for(&self, now: Instant) -> Option<Duration> {
        self.instant(self.blocked_since.load(Ordering::Acquire))
            .map(|since| now.saturating_duration_since(since))
    }

    /// Marks the connection to be reset when it is dropped.
    pub(super) fn abandon(&self) {
        self.reset.store(true, Ordering::Release);
    }

    pub(super) fn abandoned(&self) -> bool {
        self.reset.load(Ordering::Acquire)
    }

    fn instant(&self, stamp: u64) -> Option<Instant> {
        (stamp != 0).then(|| self.epoch + Duration::from_nanos(stamp - 1))
    }
}

/// `at` as nanoseconds since `epoch`, plus one so that 0 can mean "none".
fn stamp(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.saturating_duration_since(epoch).as_nanos())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

impl Limits {
    pub(super) fn new(options: &ServerOptions) -> Self {
        Self {
            max_connections: options.max_connections.max(1),
            max_scrapes: (options.max_requests > 0).then_some(options.max_requests),
            stalled_after: options.stalled_after,
            epoch: Instant::now(),
            book: Mutex::new(Book::default()),
        }
    }

    fn book(&self) -> MutexGuard<'_, Book> {
        // The book is consistent between statements that hold the lock: a panic while
        // holding it leaves nothing half done worth refusing service over.
        self.book
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Admits a new connection, closing the one idle longest if the cap is reached;
    /// `None` when every connection has a request in flight.
    pub(super) fn admit(self: &Arc<Self>) -> Option<Admitted> {
        let mut book = self.book();
        if book.open.len() >= self.max_connections {
            let (_, oldest) = book.idle.pop_first()?;
            if let Some(entry) = book.forget(oldest) {
                entry.shared.cut.cancel();
            }
        }
        let id = book.next_ticket();
        let shared = Arc::new(Shared {
            id,
            epoch: self.epoch,
            cut: CancellationToken::new(),
            busy_since: AtomicU64::new(0),
            blocked_since: AtomicU64::new(0),
            reset: AtomicBool::new(false),
        });
        // It has sent nothing yet: idle, and the newest.
        book.idle.insert(id, id);
        book.open.insert(
            id,
            Entry {
                shared: Arc::clone(&shared),
                requests: 0,
                idle_ticket: Some(id),
                scrapes: 0,
            },
        );
        Some(Admitted(Handle {
            limits: Arc::clone(self),
            shared,
        }))
    }
}

impl Book {
    fn next_ticket(&mut self) -> u64 {
        self.next += 1;
        self.next
    }

    /// Removes a connection from the book, with its scrapes.
    fn forget(&mut self, id: u64) -> Option<Entry> {
        let entry = self.open.remove(&id)?;
        if let Some(ticket) = entry.idle_ticket {
            self.idle.remove(&ticket);
        }
        self.scrapes -= entry.scrapes as usize;
        Some(entry)
    }
}

/// A connection's handle on the book, shared by its task and its requests.
#[derive(Clone, Debug)]
pub(super) struct Handle {
    limits: Arc<Limits>,
    shared: Arc<Shared>,
}

impl Handle {
    pub(super) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// A request arrived: the connection is busy until the returned guard is dropped
    /// with the last of the response.
    pub(super) fn request(&self) -> InFlight {
        let mut book = self.limits.book();
        let book = &mut *book;
        if let Some(entry) = book.open.get_mut(&self.shared.id) {
            if entry.requests == 0 {
                if let Some(ticket) = entry.idle_ticket.take() {
                    book.idle.remove(&ticket);
                }
                self.shared
                    .busy_since
                    .store(stamp(self.limits.epoch, Instant::now()), Ordering::Release);
            }
            entry.requests += 1;
        }
        InFlight(self.clone())
    }

    /// A slot under `--web.max-requests`, held until the returned guard is dropped
    /// with the last of the body; `None` when every slot is taken by a scrape still
    /// being sent.
    pub(super) fn scrape(&self) -> Option<ScrapeSlot> {
        let limits = &self.limits;
        let mut book = limits.book();
        let book = &mut *book;
        if !book.open.contains_key(&self.shared.id) {
            // Closed to make room while its request was read: the answer goes nowhere.
            return None;
        }
        if limits.max_scrapes.is_some_and(|max| book.scrapes >= max) {
            let now = Instant::now();
            for entry in book.open.values_mut() {
                let stalled = entry
                    .shared
                    .blocked_for(now)
                    .is_some_and(|d| d >= limits.stalled_after);
                if entry.scrapes > 0 && stalled {
                    book.scrapes -= entry.scrapes as usize;
                    entry.scrapes = 0;
                }
            }
            if limits.max_scrapes.is_some_and(|max| book.scrapes >= max) {
                return None;
            }
        }
        book.scrapes += 1;
        if let Some(entry) = book.open.get_mut(&self.shared.id) {
            entry.scrapes += 1;
        }
        Some(ScrapeSlot(self.clone()))
    }
}

/// A connection counted under `--web.max-connections`, until dropped.
#[derive(Debug)]
pub(super) struct Admitted(Handle);

impl Admitted {
    pub(super) fn handle(&self) -> &Handle {
        &self.0
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let handle = &self.0;
        handle.limits.book().forget(handle.shared.id);
    }
}

/// A request in flight: its connection is not idle while it lives.
#[derive(Debug)]
pub(crate) struct InFlight(Handle);

impl Drop for InFlight {
    fn drop(&mut self) {
        let Handle { limits, shared } = &self.0;
        let mut book = limits.book();
        let ticket = book.next_ticket();
        let book = &mut *book;
        if let Some(entry) = book.open.get_mut(&shared.id) {
            entry.requests = entry.requests.saturating_sub(1);
            if entry.requests == 0 {
                book.idle.insert(ticket, shared.id);
                entry.idle_ticket = Some(ticket);
                shared.busy_since.store(0, Ordering::Release);
            }
        }
    }
}

/// A scrape's slot under `--web.max-requests`.
#[derive(Debug)]
pub(crate) struct ScrapeSlot(Handle);

impl Drop for ScrapeSlot {
    fn drop(&mut self) {
        let Handle { limits, shared } = &self.0;
        let mut book = limits.book();
        let book = &mut *book;
        // Not counted any more if it stalled and gave its slot away, or if its
        // connection was closed.
        if let Some(entry) = book.open.get_mut(&shared.id)
            && entry.scrapes > 0
        {
            entry.scrapes -= 1;
            book.scrapes -= 1;
        }
    }
}

#[cfg(test)]
mod tests;
