//! Coalesced topic reads: a refresh of N streams asks the broker a handful of times, not 2N.
//!
//! Terraform refreshes every stream with its own `ReadResource`, ten at a time. Asked one by
//! one, each read costs a Metadata and a DescribeConfigs round trip. Instead, reads share a
//! short-lived snapshot: one Metadata request for every topic (partitions and replicas), and
//! DescribeConfigs for many topics per request. While one fetch is in flight, the reads that
//! arrive queue their topics for the next one; once a process has served [`PREFETCH_AFTER`]
//! reads (a refresh, not a single lookup), the next fetch also asks for every other stream
//! topic the snapshot holds, [`CONFIGS_PER_REQUEST`] per request.
//!
//! A snapshot is at most [`SNAPSHOT_TTL`] old: a refresh reports topics as they were when it
//! began, as any read does. Topics this process writes (create, alter, grow, delete) are
//! never answered from a snapshot again: after its own write a process reads the broker.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Instant;

use crate::backends::error::BackendError;
use crate::backends::streaming::TopicInfo;

/// How long a snapshot answers reads, and the reads a process serves before fetches also take
/// every other stream topic's configs: as for every coalesced read.
pub(super) use crate::backends::listing::{PREFETCH_AFTER, SNAPSHOT_TTL};
/// Topics per DescribeConfigs request.
pub(super) const CONFIGS_PER_REQUEST: usize = 500;

/// A topic as the Metadata answer shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    /// Partitions and the replication factor of its first partition.
    Ready { partitions: i32, replication_factor: i32 },
    /// Reported with an error or no partitions yet (being created, leader moving): only a
    /// direct read can tell what it is.
    Unsettled,
}

/// What a read does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Lookup {
    /// The snapshot answers: the topic, or None when it does not exist.
    Answer(Option<TopicInfo>),
    /// The snapshot is stale or lacks the topic's configs: fetch.
    Fetch,
    /// Read this topic from the broker, bypassing snapshots.
    Direct,
}

/// The snapshot and the reads waiting for the next fetch.
#[derive(Debug, Default)]
pub(super) struct Snapshot {
    metadata: Option<(Instant, HashMap<String, Shape>)>,
    configs: HashMap<String, (Instant, BTreeMap<String, String>)>,
    /// Topics read directly: written by this process, or whose configs a fetch could not read.
    direct: HashSet<String>,
    /// Topics reads are waiting for.
    pending: BTreeSet<String>,
    reads: u32,
    /// The last fetch that failed as a whole, so reads queued behind it fail with it.
    failure: Option<(Instant, BackendError)>,
}

impl Snapshot {
    /// Where `topic`'s answer comes from, at `now`. Counts the read.
    pub(super) fn lookup(&mut self, topic: &str, now: Instant) -> Lookup {
        self.reads = self.reads.saturating_add(1);
        self.peek(topic, now)
    }

    /// The same without counting a read.
    pub(super) fn peek(&self, topic: &str, now: Instant) -> Lookup {
        if self.direct.contains(topic) {
            return Lookup::Direct;
        }
        let Some((taken, shapes)) = &self.metadata else { return Lookup::Fetch };
        if now.duration_since(*taken) >= SNAPSHOT_TTL {
            return Lookup::Fetch;
        }
        match shapes.get(topic) {
            None => Lookup::Answer(None),
            Some(Shape::Unsettled) => Lookup::Direct,
            Some(Shape::Ready { partitions, replication_factor }) => match self.configs.get(topic) {
                Some((at, configs)) if now.duration_since(*at) < SNAPSHOT_TTL => Lookup::Answer(Some(TopicInfo {
                    partitions: *partitions,
                    replication_factor: *replication_factor,
                    configs: configs.clone(),
                })),
                _ => Lookup::Fetch,
            },
        }
    }

    /// Queues `topic` for the next fetch.
    pub(super) fn wait_for(&mut self, topic: &str) {
        self.pending.insert(topic.to_string());
    }

    /// Never answers `topic` from a snapshot again (this process is about to write it).
    pub(super) fn bypass(&mut self, topic: &str) {
        self.direct.insert(topic.to_string());
        self.pending.remove(topic);
    }

    /// Whether the next fetch must ask the all-topics Metadata again.
    pub(super) fn needs_metadata(&self, now: Instant) -> bool {
        match &self.metadata {
            Some((taken, _)) => now.duration_since(*taken) >= SNAPSHOT_TTL,
            None => true,
        }
    }

    /// The topics whose configs the next fetch describes: those reads wait for, and once this
    /// process has served enough reads, every other stream topic without fresh configs.
    pub(super) fn configs_to_fetch(&self, now: Instant, is_stream_topic: impl Fn(&str) -> bool) -> Vec<String> {
        let Some((_, shapes)) = &self.metadata else { return Vec::new() };
        let wanted = |t: &str| {
            matches!(shapes.get(t), Some(Shape::Ready { .. }))
                && !self.direct.contains(t)
                && !matches!(self.configs.get(t), Some((at, _)) if now.duration_since(*at) < SNAPSHOT_TTL)
        };
        let mut topics: Vec<String> = self.pending.iter().filter(|t| wanted(t)).cloned().collect();
        if self.reads >= PREFETCH_AFTER {
            let mut others: Vec<&String> =
                shapes.keys().filter(|t| !self.pending.contains(*t) && is_stream_topic(t) && wanted(t)).collect();
            others.sort();
            topics.extend(others.into_iter().cloned());
        }
        topics
    }

    /// Stores a Metadata answer for every topic, taken at `at`.
    pub(super) fn store_metadata(&mut self, at: Instant, shapes: HashMap<String, Shape>) {
        self.metadata = Some((at, shapes));
    }

    /// Stores the configs read for some topics, taken at `at`; `unreadable` topics are read
    /// directly from now on.
    pub(super) fn store_configs(
        &mut self,
        at: Instant,
        read: impl IntoIterator<Item = (String, BTreeMap<String, String>)>,
        unreadable: impl IntoIterator<Item = String>,
    ) {
        for (topic, configs) in read {
            self.pending.remove(&topic);
            self.configs.insert(topic, (at, configs));
        }
        for topic in unreadable {
            self.bypass(&topic);
        }
    }

    /// Records a fetch that failed as a whole.
    pub(super) fn store_failure(&mut self, at: Instant, error: BackendError) {
        self.failure = Some((at, error));
    }

    /// The failure of a fetch that ended after `since` (a read that waited since then shares it).
    pub(super) fn failure_since(&self, since: Instant) -> Option<BackendError> {
        self.failure.as_ref().filter(|(at, _)| *at >= since).map(|(_, e)| e.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    use crate::backends::error::ErrorKind;

    fn ready(p: i32) -> Shape {
        Shape::Ready { partitions: p, replication_factor: 1 }
    }

    fn snapshot_of(n: usize, now: Instant) -> Snapshot {
        let mut s = Snapshot::default();
        s.store_metadata(now, (0..n).map(|i| (format!("d.p.s{i:04}"), ready(3))).collect());
        s
    }

    fn all_streams(_: &str) -> bool {
        true
    }

    #[test]
    fn a_first_read_fetches_metadata_then_its_own_configs_only() {
        let now = Instant::now();
        let mut s = Snapshot::default();
        assert_eq!(s.lookup("d.p.s0000", now), Lookup::Fetch);
        s.wait_for("d.p.s0000");
        assert!(s.needs_metadata(now));
        assert!(s.configs_to_fetch(now, all_streams).is_empty(), "configs wait for the metadata");
        s.store_metadata(now, (0..100).map(|i| (format!("d.p.s{i:04}"), ready(3))).collect());
        assert_eq!(s.configs_to_fetch(now, all_streams), vec!["d.p.s0000".to_string()]);
        s.store_configs(now, [("d.p.s0000".to_string(), BTreeMap::new())], []);
        let Lookup::Answer(Some(info)) = s.lookup("d.p.s0000", now) else { panic!("answered from the snapshot") };
        assert_eq!(info.partitions, 3);
        assert_eq!(s.lookup("nope", now), Lookup::Answer(None), "absent from Metadata: does not exist");
    }

    #[test]
    fn many_reads_prefetch_every_stream_topic() {
        let now = Instant::now();
        let mut s = snapshot_of(1000, now);
        for i in 0..PREFETCH_AFTER {
            assert_eq!(s.lookup(&format!("d.p.s{i:04}"), now), Lookup::Fetch);
        }
        s.wait_for("d.p.s0003");
        let topics = s.configs_to_fetch(now, |t| t != "d.p.s0999");
        assert_eq!(topics.len(), 999);
        assert_eq!(topics[0], "d.p.s0003", "the waiting read comes first");
        s.store_configs(now, topics.into_iter().map(|t| (t, BTreeMap::new())), []);
        assert!(matches!(s.lookup("d.p.s0500", now), Lookup::Answer(Some(_))));
        assert_eq!(s.lookup("d.p.s0999", now), Lookup::Fetch, "not a stream topic: never prefetched");
    }

    #[test]
    fn snapshots_expire() {
        let now = Instant::now();
        let mut s = snapshot_of(2, now);
        s.store_configs(now, [("d.p.s0000".to_string(), BTreeMap::new())], []);
        assert!(matches!(s.lookup("d.p.s0000", now + SNAPSHOT_TTL / 2), Lookup::Answer(Some(_))));
        assert_eq!(s.lookup("d.p.s0000", now + SNAPSHOT_TTL), Lookup::Fetch);
        assert!(s.needs_metadata(now + SNAPSHOT_TTL));
    }

    #[test]
    fn written_unsettled_and_unreadable_topics_are_read_directly() {
        let now = Instant::now();
        let mut s = snapshot_of(3, now);
        s.store_configs(now, [("d.p.s0000".to_string(), BTreeMap::new())], ["d.p.s0001".to_string()]);
        s.bypass("d.p.s0000");
        assert_eq!(s.lookup("d.p.s0000", now), Lookup::Direct, "written by this process");
        assert_eq!(s.lookup("d.p.s0001", now), Lookup::Direct, "its configs could not be read");
        let mut shapes = HashMap::new();
        shapes.insert("d.p.new".to_string(), Shape::Unsettled);
        s.store_metadata(now, shapes);
        assert_eq!(s.lookup("d.p.new", now), Lookup::Direct, "being created: never reported missing");
        s.wait_for("d.p.new");
        assert!(s.configs_to_fetch(now, all_streams).is_empty());
    }

    #[test]
    fn reads_queued_behind_a_failed_fetch_share_its_error() {
        let before = Instant::now();
        let mut s = Snapshot::default();
        let after = before + Duration::from_millis(5);
        s.store_failure(after, BackendError::new(ErrorKind::Transient, "Kafka", "Metadata", "down"));
        assert!(s.failure_since(before).is_some());
        assert!(s.failure_since(after + Duration::from_millis(1)).is_none(), "an older failure is not shared");
    }
}
