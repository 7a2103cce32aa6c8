//! Coalesced ACL reads: a refresh of N grants lists the broker's bindings once, not once per
//! binding of every grant.
//!
//! Each grant's read asks which of its bindings exist; asked exactly, that is one DescribeAcls
//! per binding (three for a read grant). Once a process has served [`PREFETCH_AFTER`] ACL reads
//! (a refresh, not a single lookup), a read takes one listing of every binding instead, and the
//! listing answers the reads of the next [`SNAPSHOT_TTL`]. Bindings this process writes void
//! the listing, before and after the write, and a listing begun before a write is not kept: after
//! its own write a process reads the broker, as with topics (`snapshot`).

use std::collections::BTreeSet;
use std::time::Instant;

use super::snapshot::{PREFETCH_AFTER, SNAPSHOT_TTL};
use crate::acl::AclBinding;

/// The last listing of every binding, and how many reads and writes this process made.
#[derive(Debug, Default)]
pub(super) struct AclListing {
    listing: Option<(Instant, BTreeSet<AclBinding>)>,
    writes: u64,
    reads: u32,
}

impl AclListing {
    /// Which of `wanted` exist, if a listing younger than [`SNAPSHOT_TTL`] at `now` can tell.
    /// Counts the read.
    pub(super) fn lookup(&mut self, wanted: &[AclBinding], now: Instant) -> Option<Vec<AclBinding>> {
        self.reads = self.reads.saturating_add(1);
        self.peek(wanted, now)
    }

    /// The same without counting a read.
    pub(super) fn peek(&self, wanted: &[AclBinding], now: Instant) -> Option<Vec<AclBinding>> {
        let (taken, all) = self.listing.as_ref()?;
        if now.duration_since(*taken) >= SNAPSHOT_TTL {
            return None;
        }
        Some(wanted.iter().filter(|b| all.contains(*b)).cloned().collect())
    }

    /// Whether a read that no listing answers should take one (a refresh) rather than ask for
    /// its own bindings (a single lookup).
    pub(super) fn worth_listing(&self) -> bool {
        self.reads > PREFETCH_AFTER
    }

    /// What to hand [`Self::store`] with the listing about to be asked for.
    pub(super) fn mark(&self) -> u64 {
        self.writes
    }

    /// Keeps the listing asked for at `asked` (with [`Self::mark`] `mark`), unless this process
    /// wrote bindings since: the broker may have answered before or after the write.
    pub(super) fn store(&mut self, mark: u64, asked: Instant, all: Vec<AclBinding>) {
        if mark == self.writes {
            self.listing = Some((asked, all.into_iter().collect()));
        }
    }

    /// This process writes bindings (called before and after each write): no listing taken
    /// before answers again.
    pub(super) fn wrote(&mut self) {
        self.writes = self.writes.wrapping_add(1);
        self.listing = None;
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::acl::{AclOperation, AclPattern, AclResource};

    fn binding(name: &str) -> AclBinding {
        AclBinding {
            resource: AclResource::Topic,
            name: name.into(),
            pattern: AclPattern::Prefixed,
            principal: "User:mkt".into(),
            operation: AclOperation::Read,
        }
    }

    fn refreshing() -> AclListing {
        let mut l = AclListing::default();
        for _ in 0..=PREFETCH_AFTER {
            assert_eq!(l.lookup(&[binding("a.")], Instant::now()), None);
        }
        l
    }

    #[test]
    fn single_lookups_ask_for_their_own_bindings_and_a_refresh_lists() {
        let mut l = AclListing::default();
        assert_eq!(l.lookup(&[binding("a.")], Instant::now()), None);
        assert!(!l.worth_listing(), "one read is a lookup, not a refresh");
        assert!(refreshing().worth_listing());
    }

    #[test]
    fn a_listing_answers_each_grant_with_the_bindings_it_holds_until_it_is_stale() {
        let mut l = refreshing();
        let asked = Instant::now();
        l.store(l.mark(), asked, vec![binding("a."), binding("b."), binding("other.")]);
        let wanted = [binding("a."), binding("c."), binding("b.")];
        assert_eq!(l.lookup(&wanted, asked), Some(vec![binding("a."), binding("b.")]));
        assert_eq!(l.lookup(&[binding("c.")], asked), Some(vec![]), "a missing binding is an answer too");
        assert_eq!(l.lookup(&wanted, asked + SNAPSHOT_TTL), None);
    }

    #[test]
    fn a_write_voids_the_listing_and_one_asked_before_it_is_not_kept() {
        let mut l = refreshing();
        let now = Instant::now();
        l.store(l.mark(), now, vec![binding("a.")]);
        l.wrote();
        assert_eq!(l.peek(&[binding("a.")], now), None, "after its own write a process reads the broker");
        // Asked before a write that ended before the answer came: it may lack that write.
        let mark = l.mark();
        l.wrote();
        l.wrote();
        l.store(mark, now + Duration::from_millis(1), vec![]);
        assert_eq!(l.peek(&[binding("a.")], now), None);
        l.store(l.mark(), now, vec![binding("a.")]);
        assert_eq!(l.peek(&[binding("a.")], now), Some(vec![binding("a.")]));
    }
}
