//! Coalesced reads: a refresh of N objects asks a backend for one listing of everything, not N
//! questions about one thing each.
//!
//! A resource's read asks about its own object (a grant: its Kafka ACL bindings, its IAM inline
//! policy). Asked exactly, that is one call per object. Once a process has served
//! [`PREFETCH_AFTER`] such reads (a refresh, not a single lookup), a read takes one listing of
//! everything instead (DescribeAcls matching any binding; IAM's
//! GetAccountAuthorizationDetails), and the listing answers the reads of the next
//! [`SNAPSHOT_TTL`]. Reads that arrive while a listing is being fetched wait for it rather than
//! fetch their own. What this process writes voids the listing, before and after the write,
//! and a listing begun before a write is not kept: after its own write a process asks the
//! backend again.

use std::future::Future;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::error::BackendError;

/// How long a listing answers reads.
pub(crate) const SNAPSHOT_TTL: Duration = Duration::from_secs(10);
/// Reads a process serves on its own before reads take a listing.
pub(crate) const PREFETCH_AFTER: u32 = 16;

/// The last listing, and how many reads and writes this process made.
#[derive(Debug)]
struct State<T> {
    listing: Option<(Instant, T)>,
    writes: u64,
    reads: u32,
}

impl<T> Default for State<T> {
    fn default() -> Self {
        Self { listing: None, writes: 0, reads: 0 }
    }
}

impl<T> State<T> {
    /// The listing, if one younger than [`SNAPSHOT_TTL`] at `now` is held.
    fn fresh(&self, now: Instant) -> Option<&T> {
        let (taken, all) = self.listing.as_ref()?;
        (now.duration_since(*taken) < SNAPSHOT_TTL).then_some(all)
    }
}

/// One kind of listing a backend client shares between the reads of a process.
#[derive(Debug)]
pub(crate) struct Coalesced<T> {
    state: Mutex<State<T>>,
    /// One listing fetched at a time; the reads behind it take its answer.
    turn: tokio::sync::Mutex<()>,
}

impl<T> Default for Coalesced<T> {
    fn default() -> Self {
        Self { state: Mutex::new(State::default()), turn: tokio::sync::Mutex::new(()) }
    }
}

impl<T> Coalesced<T> {
    fn state(&self) -> MutexGuard<'_, State<T>> {
        // Only a cache: every update is a single assignment, so one left by a panicking thread
        // is still consistent.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers a read from a listing when this process reads many: `answer` reads the one
    /// object out of the listing, `list` fetches a listing (called only when none is held and
    /// none is on its way). `Ok(None)`: the read should ask about its own object (a single
    /// lookup, or a write came while the listing was fetched). An error is the listing's.
    pub(crate) async fn read<A, F>(
        &self,
        answer: impl Fn(&T) -> A,
        list: impl FnOnce() -> F,
    ) -> Result<Option<A>, BackendError>
    where
        F: Future<Output = Result<T, BackendError>>,
    {
        {
            let mut state = self.state();
            state.reads = state.reads.saturating_add(1);
            if let Some(all) = state.fresh(Instant::now()) {
                return Ok(Some(answer(all)));
            }
            if state.reads <= PREFETCH_AFTER {
                return Ok(None);
            }
        }
        let _turn = self.turn.lock().await;
        // The listing this read waited behind may answer it.
        let mark = {
            let state = self.state();
            if let Some(all) = state.fresh(Instant::now()) {
                return Ok(Some(answer(all)));
            }
            state.writes
        };
        let asked = Instant::now();
        let all = list().await?;
        let mut state = self.state();
        // Kept only when this process wrote nothing meanwhile: the backend may have answered
        // before or after the write.
        if mark != state.writes {
            return Ok(None);
        }
        let found = answer(&all);
        state.listing = Some((asked, all));
        Ok(Some(found))
    }

    /// Runs one of this process's writes, voiding the listing before and after it.
    pub(crate) async fn writing<R>(&self, write: impl Future<Output = R>) -> R {
        self.wrote();
        let out = write.await;
        self.wrote();
        out
    }

    fn wrote(&self) {
        let mut state = self.state();
        state.writes = state.writes.wrapping_add(1);
        state.listing = None;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use super::*;

    type Names = BTreeSet<&'static str>;

    /// A listing source that counts its calls.
    #[derive(Default)]
    struct Source {
        calls: AtomicU32,
    }

    impl Source {
        async fn list(&self, all: &[&'static str]) -> Result<Names, BackendError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            tokio::task::yield_now().await;
            Ok(all.iter().copied().collect())
        }
    }

    async fn read(c: &Coalesced<Names>, s: &Source, name: &'static str) -> Option<bool> {
        c.read(|all| all.contains(name), || s.list(&["a", "b"])).await.unwrap()
    }

    #[tokio::test]
    async fn single_lookups_ask_for_themselves_and_a_refresh_takes_one_listing() {
        let (c, s) = (Coalesced::default(), Source::default());
        for _ in 0..PREFETCH_AFTER {
            assert_eq!(read(&c, &s, "a").await, None, "a lookup asks for its own object");
        }
        assert_eq!(s.calls.load(Ordering::SeqCst), 0);
        assert_eq!(read(&c, &s, "a").await, Some(true), "past the threshold, from a listing");
        assert_eq!(read(&c, &s, "b").await, Some(true));
        assert_eq!(read(&c, &s, "zzz").await, Some(false), "a missing object is an answer too");
        assert_eq!(s.calls.load(Ordering::SeqCst), 1, "one listing serves them all");
    }

    #[tokio::test]
    async fn reads_arriving_together_share_one_listing() {
        let c = Arc::new(Coalesced::default());
        let s = Arc::new(Source::default());
        for _ in 0..PREFETCH_AFTER {
            read(&c, &s, "a").await;
        }
        let reads: Vec<_> = (0..20)
            .map(|_| {
                let (c, s) = (c.clone(), s.clone());
                tokio::spawn(async move { read(&c, &s, "b").await })
            })
            .collect();
        for r in reads {
            assert_eq!(r.await.unwrap(), Some(true));
        }
        assert_eq!(s.calls.load(Ordering::SeqCst), 1, "the reads behind the first took its listing");
    }

    #[tokio::test]
    async fn a_write_voids_the_listing_and_one_fetched_across_a_write_is_not_kept() {
        let (c, s) = (Coalesced::default(), Source::default());
        for _ in 0..PREFETCH_AFTER {
            read(&c, &s, "a").await;
        }
        assert_eq!(read(&c, &s, "a").await, Some(true));
        c.writing(async {}).await;
        assert_eq!(read(&c, &s, "a").await, Some(true));
        assert_eq!(s.calls.load(Ordering::SeqCst), 2, "after its own write a process lists again");
        // A write lands while the listing is fetched: that answer may predate it.
        c.writing(async {}).await;
        let answer = c
            .read(
                |all: &Names| all.contains("a"),
                || async {
                    c.wrote();
                    s.list(&["a"]).await
                },
            )
            .await
            .unwrap();
        assert_eq!(answer, None, "the read asks for itself");
        assert!(c.state().listing.is_none(), "and the listing is not kept");
    }

    #[tokio::test]
    async fn a_listing_answers_until_it_is_stale() {
        let (c, s) = (Coalesced::default(), Source::default());
        for _ in 0..=PREFETCH_AFTER {
            read(&c, &s, "a").await;
        }
        let taken = c.state().listing.as_ref().map(|(at, _)| *at).unwrap();
        assert!(c.state().fresh(taken).is_some());
        assert!(c.state().fresh(taken + SNAPSHOT_TTL).is_none());
    }

    #[tokio::test]
    async fn a_failed_listing_is_the_reads_error_and_the_next_read_lists_again() {
        let (c, s) = (Coalesced::<Names>::default(), Source::default());
        for _ in 0..PREFETCH_AFTER {
            read(&c, &s, "a").await;
        }
        let failed = c
            .read(
                |all| all.contains("a"),
                || async { Err(BackendError::new(super::super::error::ErrorKind::Auth, "IAM", "List", "denied")) },
            )
            .await;
        assert!(failed.is_err());
        assert_eq!(read(&c, &s, "a").await, Some(true));
    }
}
