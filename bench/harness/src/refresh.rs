//! Item 4, refresh scaling: what `terraform plan` (with refresh) asks the backends for N streams.
//!
//! - [`kafka_proxy`]: a TCP proxy between the provider and a private broker that advertises
//!   the proxy's address (so every connection a client makes, bootstrap or broker, passes it).
//!   It reads the Kafka framing of the client-to-broker bytes (a 4-byte big-endian length, then
//!   the request header's `api_key` i16 and `api_version` i16) and counts requests by API.
//!   Commands on stdin, one per line: `take` prints the counts since the last `take` as one
//!   JSON line and zeroes them; end of input stops it. SASL logins pass through unchanged: after
//!   SaslHandshake v1 (what librdkafka sends to Apache Kafka) the SCRAM exchange travels in
//!   SaslAuthenticate requests, framed like any other, so each login is counted too.
//! - [`setup`]: the refresh workload's streams made directly, as `datamesh_stream` create makes
//!   them (topic, then catalog entry), through the provider's own backend code, many at once.
//!   Terraform never creates thousands of streams here; bench.py writes their state.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use serde_json::json;
use terraform_provider_datamesh::backends::catalog::stream_key;
use terraform_provider_datamesh::backends::streaming::TopicSpec;
use terraform_provider_datamesh::naming;
use terraform_provider_datamesh::provider::ProviderData;
use terraform_provider_datamesh::resources::stream::StreamEntry;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;

use crate::workload::{Workload, PARTITIONS};

type Res<T> = Result<T, String>;

/// Kafka API names by key (the ones a client of this provider may send; others print as a number).
fn api_name(key: i16) -> String {
    let name = match key {
        0 => "Produce",
        1 => "Fetch",
        2 => "ListOffsets",
        3 => "Metadata",
        8 => "OffsetCommit",
        9 => "OffsetFetch",
        10 => "FindCoordinator",
        17 => "SaslHandshake",
        18 => "ApiVersions",
        19 => "CreateTopics",
        20 => "DeleteTopics",
        29 => "DescribeAcls",
        30 => "CreateAcls",
        31 => "DeleteAcls",
        32 => "DescribeConfigs",
        33 => "AlterConfigs",
        36 => "SaslAuthenticate",
        37 => "CreatePartitions",
        44 => "IncrementalAlterConfigs",
        60 => "DescribeCluster",
        71 => "GetTelemetrySubscriptions",
        72 => "PushTelemetry",
        75 => "DescribeTopicPartitions",
        _ => return format!("api_key {key}"),
    };
    name.to_string()
}

/// Splits a client-to-broker byte stream into requests, whatever the read boundaries.
#[derive(Default)]
struct Frames {
    /// Length field and the first four header bytes of the request being read.
    head: [u8; 8],
    have: usize,
    /// Bytes of the current request still to pass before the next length field.
    skip: u64,
}

impl Frames {
    fn feed(&mut self, mut data: &[u8], mut request: impl FnMut(i16, i16)) {
        while !data.is_empty() {
            if self.skip > 0 {
                let n = data.len().min(usize::try_from(self.skip).unwrap_or(usize::MAX));
                data = &data[n..];
                self.skip -= n as u64;
                continue;
            }
            let n = data.len().min(8 - self.have);
            self.head[self.have..self.have + n].copy_from_slice(&data[..n]);
            self.have += n;
            data = &data[n..];
            if self.have == 8 {
                let len = i32::from_be_bytes([self.head[0], self.head[1], self.head[2], self.head[3]]);
                let key = i16::from_be_bytes([self.head[4], self.head[5]]);
                let version = i16::from_be_bytes([self.head[6], self.head[7]]);
                request(key, version);
                // The length counts what follows it, the four header bytes just read included.
                self.skip = u64::try_from(len).unwrap_or(0).saturating_sub(4);
                self.have = 0;
            }
        }
    }
}

#[derive(Default)]
struct Counts {
    connections: AtomicU64,
    /// (api_key, api_version) -> requests.
    requests: Mutex<BTreeMap<(i16, i16), u64>>,
}

impl Counts {
    fn take(&self) -> serde_json::Value {
        let requests = std::mem::take(&mut *self.requests.lock().unwrap_or_else(|e| e.into_inner()));
        let connections = self.connections.swap(0, Ordering::SeqCst);
        let mut by_api: BTreeMap<String, u64> = BTreeMap::new();
        let mut by_version: BTreeMap<String, u64> = BTreeMap::new();
        for ((key, version), n) in &requests {
            *by_api.entry(api_name(*key)).or_default() += n;
            by_version.insert(format!("{} v{version}", api_name(*key)), *n);
        }
        json!({
            "connections": connections,
            "total": requests.values().sum::<u64>(),
            "by_api": by_api,
            "by_api_version": by_version,
        })
    }
}

async fn pipe(counts: Arc<Counts>, client: TcpStream, target: String) {
    let Ok(upstream) = TcpStream::connect(&target).await else {
        eprintln!("kafka-proxy: cannot reach {target}");
        return;
    };
    counts.connections.fetch_add(1, Ordering::SeqCst);
    let _ = (client.set_nodelay(true), upstream.set_nodelay(true));
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    let up = async {
        let mut frames = Frames::default();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = cr.read(&mut buf).await?;
            if n == 0 {
                return uw.shutdown().await;
            }
            frames.feed(&buf[..n], |key, version| {
                *counts.requests.lock().unwrap_or_else(|e| e.into_inner()).entry((key, version)).or_default() += 1;
            });
            uw.write_all(&buf[..n]).await?;
        }
    };
    let down = async {
        tokio::io::copy(&mut ur, &mut cw).await?;
        cw.shutdown().await
    };
    let _: std::io::Result<_> = tokio::try_join!(up, down);
}

/// Runs the counting proxy to `target` on a free loopback port; prints `{"listen": ...}` first.
pub fn kafka_proxy(target: &str) -> Res<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let counts = Arc::new(Counts::default());
    let listener = rt.block_on(TcpListener::bind("127.0.0.1:0")).map_err(|e| format!("bind: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", json!({ "listen": addr.to_string() })).map_err(|e| e.to_string())?;
        out.flush().map_err(|e| e.to_string())?;
    }
    let (c, target) = (counts.clone(), target.to_string());
    rt.spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(pipe(c.clone(), stream, target.clone()));
                }
                Err(e) => {
                    eprintln!("kafka-proxy: accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                }
            }
        }
    });
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| e.to_string())?;
        match line.trim() {
            "take" => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{}", counts.take()).map_err(|e| e.to_string())?;
                out.flush().map_err(|e| e.to_string())?;
            }
            "" => {}
            other => eprintln!("kafka-proxy: unknown command {other:?} (take)"),
        }
    }
    rt.shutdown_background();
    Ok(())
}

/// Creates every stream of `workload` but the first `skip` (Terraform made those): the topic,
/// then its catalog entry, as `datamesh_stream` create does, `concurrency` at a time.
pub fn setup(workload: &Workload, skip: usize, concurrency: usize) -> Res<serde_json::Value> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(async {
        let start = Instant::now();
        let data = ProviderData::new(crate::baseline::stack_config(&workload.prefix)?);
        let streaming = data.streaming().await.map_err(|d| format!("{d:?}"))?;
        let catalog = data.catalog().await.map_err(|d| format!("{d:?}"))?;
        let permits = Arc::new(Semaphore::new(concurrency));
        let mut tasks = Vec::new();
        let streams = workload
            .products()
            .into_iter()
            .flat_map(|p| p.streams.clone().into_iter().map(move |s| (p.domain.clone(), p.name.clone(), s)));
        for (domain, product, name) in streams.skip(skip) {
            let (streaming, catalog, permits) = (streaming.clone(), catalog.clone(), permits.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = permits.acquire_owned().await.map_err(|e| e.to_string())?;
                let topic = naming::topic_name(&domain, &product, &name);
                let spec = TopicSpec {
                    name: topic.clone(),
                    partitions: PARTITIONS,
                    replication_factor: 1,
                    configs: BTreeMap::new(),
                };
                streaming.create_topic(&spec).await.map_err(|e| format!("topic {topic}: {e}"))?;
                let entry = StreamEntry {
                    topic: topic.clone(),
                    data_product: naming::data_product_id(&domain, &product),
                    name: name.clone(),
                    partitions: PARTITIONS as i64,
                    replication_factor: 1,
                    configs: BTreeMap::new(),
                    created_at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                };
                catalog
                    .put(&stream_key(&domain, &product, &name), &entry)
                    .await
                    .map_err(|e| format!("catalog entry of {topic}: {e}"))?;
                Ok::<(), String>(())
            }));
        }
        let created = tasks.len();
        for t in tasks {
            t.await.map_err(|e| e.to_string())??;
        }
        Ok(json!({ "created": created, "seconds": start.elapsed().as_secs_f64(), "concurrency": concurrency }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: i16, version: i16, body: usize) -> Vec<u8> {
        let mut r = ((4 + body) as i32).to_be_bytes().to_vec();
        r.extend(key.to_be_bytes());
        r.extend(version.to_be_bytes());
        r.extend(std::iter::repeat_n(7u8, body));
        r
    }

    #[test]
    fn frames_are_counted_across_any_read_boundaries() {
        let mut bytes = request(18, 3, 20);
        bytes.extend(request(3, 12, 0));
        bytes.extend(request(32, 4, 70_000));
        bytes.extend(request(3, 12, 5));
        for chunk in [1, 3, 7, 8, 9, 1000, bytes.len()] {
            let mut frames = Frames::default();
            let mut seen = Vec::new();
            for part in bytes.chunks(chunk) {
                frames.feed(part, |k, v| seen.push((k, v)));
            }
            assert_eq!(seen, [(18, 3), (3, 12), (32, 4), (3, 12)], "chunks of {chunk}");
        }
    }
}
