//! Smoke tests of the stack's Apache Cassandra and HDFS (scripts/stack/cassandra.sh and
//! scripts/stack/hdfs.sh): each logs in the way a client of the provider would and does one real
//! operation, so a stack that starts but cannot be used fails here rather than in a resource's
//! test. Every name is unique, so these run in parallel against a shared stack.
//!
//! Start the two services with `STACK_SERVICES=cassandra,hdfs bash scripts/stack-up.sh DIR` and
//! source DIR/stack.env; without its variables each test fails and says so.

use std::time::Duration;

use reqwest::{redirect, Client, Method, StatusCode};
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use serde_json::Value;

use crate::support::unique;

/// A variable of stack.env; a test without it fails loudly (never skips).
fn stack_var(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{var} is not set: this test needs the local stack's Cassandra and HDFS. Start them with \
             `STACK_SERVICES=cassandra,hdfs bash scripts/stack-up.sh /tmp/ch-stack` and \
             `. /tmp/ch-stack/stack.env` (or start the whole stack with scripts/stack-up.sh)."
        ),
    }
}

// ------------------------------------------------------------------------------ Cassandra ----

/// The first of DATAMESH_CASSANDRA_CONTACT_POINTS (host:port, comma separated).
fn cassandra_contact_point() -> String {
    let points = stack_var("DATAMESH_CASSANDRA_CONTACT_POINTS");
    points.split(',').next().unwrap().trim().to_string()
}

async fn cassandra_login(user: &str, password: &str) -> Result<Session, scylla::errors::NewSessionError> {
    SessionBuilder::new()
        .known_node(cassandra_contact_point())
        .user(user, password)
        .connection_timeout(Duration::from_secs(10))
        .build()
        .await
}

/// Creates a table in a keyspace of its own, writes and reads a row back.
async fn cassandra_round_trip(session: &Session, keyspace: &str) -> Result<(), String> {
    let run =
        |cql: String| async move { session.query_unpaged(cql.clone(), &[]).await.map_err(|e| format!("{cql}: {e}")) };
    run(format!("CREATE TABLE {keyspace}.products (id int PRIMARY KEY, name text, owner text)")).await?;
    let insert = format!("INSERT INTO {keyspace}.products (id, name, owner) VALUES (?, ?, ?)");
    session
        .query_unpaged(insert.clone(), (7_i32, "orders", "sales-domain"))
        .await
        .map_err(|e| format!("{insert}: {e}"))?;
    let select = format!("SELECT name, owner FROM {keyspace}.products WHERE id = ?");
    let result = session.query_unpaged(select.clone(), (7_i32,)).await.map_err(|e| format!("{select}: {e}"))?;
    let rows = result.into_rows_result().map_err(|e| format!("{select}: not rows: {e}"))?;
    let row: (String, String) = rows.single_row().map_err(|e| format!("{select}: not one (text, text) row: {e}"))?;
    if row != ("orders".to_string(), "sales-domain".to_string()) {
        return Err(format!("{select} read back {row:?}, wrote (\"orders\", \"sales-domain\")"));
    }
    Ok(())
}

#[tokio::test]
async fn cassandra_hdfs_smoke_cassandra_login_and_round_trip() {
    let user = stack_var("DATAMESH_CASSANDRA_USERNAME");
    let password = stack_var("DATAMESH_CASSANDRA_PASSWORD");
    let contact = cassandra_contact_point();
    let session = cassandra_login(&user, &password)
        .await
        .unwrap_or_else(|e| panic!("CQL login as {user} on {contact} failed: {e}"));

    let keyspace = format!("smoke_{}", unique('k'));
    session
        .query_unpaged(
            format!(
                "CREATE KEYSPACE {keyspace} WITH replication = {{'class': 'SimpleStrategy', 'replication_factor': 1}}"
            ),
            &[],
        )
        .await
        .unwrap_or_else(|e| panic!("CREATE KEYSPACE {keyspace} as {user} failed: {e}"));
    // The keyspace goes whether or not the round trip worked.
    let outcome = cassandra_round_trip(&session, &keyspace).await;
    let dropped = session.query_unpaged(format!("DROP KEYSPACE {keyspace}"), &[]).await;
    if let Err(e) = outcome {
        panic!("CQL round trip in keyspace {keyspace} failed: {e}");
    }
    dropped.unwrap_or_else(|e| panic!("DROP KEYSPACE {keyspace} failed: {e}"));
    let left = session
        .query_unpaged(
            "SELECT keyspace_name FROM system_schema.keyspaces WHERE keyspace_name = ?",
            (keyspace.as_str(),),
        )
        .await
        .unwrap()
        .into_rows_result()
        .unwrap()
        .rows_num();
    assert_eq!(left, 0, "keyspace {keyspace} is still in system_schema.keyspaces after DROP KEYSPACE");
}

#[tokio::test]
async fn cassandra_hdfs_smoke_cassandra_wrong_password_is_refused() {
    let user = stack_var("DATAMESH_CASSANDRA_USERNAME");
    let password = stack_var("DATAMESH_CASSANDRA_PASSWORD");
    let contact = cassandra_contact_point();
    let wrong = format!("{password}-not-it");
    match cassandra_login(&user, &wrong).await {
        Ok(_) => panic!("CQL login as {user} on {contact} with a wrong password was accepted"),
        Err(e) => {
            let text = format!("{e} {e:?}");
            assert!(
                text.contains("AuthenticationError") || text.contains("Authentication error"),
                "a wrong password for {user} on {contact} must fail with an authentication error, got: {text}"
            );
        }
    }
}

// ----------------------------------------------------------------------------------- HDFS ----

struct WebHdfs {
    base: String,
    client: Client,
}

/// One WebHDFS answer: the status and the body (JSON where the call returns any).
struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `exception` of a `RemoteException` body, if it is one.
    fn remote_exception(&self) -> Option<String> {
        let v: Value = serde_json::from_str(&self.body).ok()?;
        v["RemoteException"]["exception"].as_str().map(str::to_string)
    }
}

impl WebHdfs {
    fn new() -> Self {
        let base = stack_var("DATAMESH_HDFS_WEBHDFS_URL");
        // Redirects to the DataNode are followed by hand: the second step of CREATE carries the
        // data, and its answer is the one that tells whether the write was allowed.
        let client =
            Client::builder().redirect(redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
        Self { base, client }
    }

    async fn send(&self, method: Method, url: &str, body: Option<&'static [u8]>) -> Answer {
        let mut req = self.client.request(method.clone(), url);
        if let Some(b) = body {
            req = req.body(b);
        }
        let resp = req.send().await.unwrap_or_else(|e| panic!("WebHDFS {method} {url}: {e}"));
        let status = resp.status();
        let location = resp.headers().get("location").map(|l| l.to_str().unwrap().to_string());
        let body = resp.text().await.unwrap_or_else(|e| panic!("WebHDFS {method} {url}: reading the body: {e}"));
        Answer { status, location, body }
    }

    /// `op` on `path` as `user`, at the NameNode.
    async fn call(&self, method: Method, path: &str, op: &str, user: &str, extra: &str) -> Answer {
        let url = format!("{}/webhdfs/v1{path}?op={op}&user.name={user}{extra}", self.base);
        self.send(method, &url, None).await
    }

    /// A call the NameNode redirects to a DataNode (CREATE, OPEN): the redirect, then the
    /// DataNode's answer (with `body` as the data of a CREATE).
    async fn two_step(&self, method: Method, path: &str, op: &str, user: &str, body: Option<&'static [u8]>) -> Answer {
        let first = self.call(method.clone(), path, op, user, "").await;
        if first.status != StatusCode::TEMPORARY_REDIRECT {
            return first; // refused by the NameNode itself
        }
        let location = first.location.unwrap_or_else(|| panic!("WebHDFS {op} {path}: a 307 without a Location"));
        assert!(
            location.starts_with("http://127.0.0.1:"),
            "WebHDFS {op} {path}: the NameNode redirects to {location}, not to a DataNode on 127.0.0.1"
        );
        self.send(method, &location, body).await
    }
}

const DATA: &[u8] = b"order_id,amount\n1,9.99\n";

async fn hdfs_round_trip(hdfs: &WebHdfs, dir: &str) {
    let file = format!("{dir}/orders.csv");

    let created = hdfs.two_step(Method::PUT, &file, "CREATE", "hdfs", Some(DATA)).await;
    assert_eq!(created.status, StatusCode::CREATED, "CREATE {file} as hdfs: {}", created.body);

    let read = hdfs.two_step(Method::GET, &file, "OPEN", "hdfs", None).await;
    assert_eq!(read.status, StatusCode::OK, "OPEN {file} as hdfs: {}", read.body);
    assert_eq!(read.body.as_bytes(), DATA, "OPEN {file} read back other bytes than were written");

    let status = hdfs.call(Method::GET, &file, "GETFILESTATUS", "hdfs", "").await;
    assert_eq!(status.status, StatusCode::OK, "GETFILESTATUS {file}: {}", status.body);
    let fs = &status.json()["FileStatus"];
    assert_eq!(fs["owner"], "hdfs", "owner of {file}: {fs}");
    assert_eq!(fs["type"], "FILE", "type of {file}: {fs}");
    assert_eq!(fs["length"], DATA.len(), "length of {file}: {fs}");

    let dir_status = hdfs.call(Method::GET, dir, "GETFILESTATUS", "hdfs", "").await;
    let ds = &dir_status.json()["FileStatus"];
    assert_eq!(ds["owner"], "hdfs", "owner of {dir}: {ds}");
    assert_eq!(ds["permission"], "750", "permission of {dir}: {ds}");

    // Permissions are enforced: `nobody` may not even traverse a 0750 directory of hdfs.
    let denied_file = format!("{dir}/denied.csv");
    let denied = hdfs.two_step(Method::PUT, &denied_file, "CREATE", "nobody", Some(DATA)).await;
    assert_eq!(
        denied.status,
        StatusCode::FORBIDDEN,
        "CREATE {denied_file} as nobody in a 0750 directory of hdfs must be refused: {}",
        denied.body
    );
    assert_eq!(
        denied.remote_exception().as_deref(),
        Some("AccessControlException"),
        "CREATE {denied_file} as nobody must fail with an AccessControlException: {}",
        denied.body
    );
    let absent = hdfs.call(Method::GET, &denied_file, "GETFILESTATUS", "hdfs", "").await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND, "{denied_file} exists after a refused CREATE: {}", absent.body);
}

#[tokio::test]
async fn cassandra_hdfs_smoke_hdfs_webhdfs_round_trip_and_permissions() {
    let hdfs = WebHdfs::new();
    let dir = format!("/smoke-{}", unique('h'));

    let made = hdfs.call(Method::PUT, &dir, "MKDIRS", "hdfs", "&permission=750").await;
    assert_eq!(made.status, StatusCode::OK, "MKDIRS {dir} as hdfs at {}: {}", hdfs.base, made.body);
    assert_eq!(made.json()["boolean"], true, "MKDIRS {dir}: {}", made.body);

    // The directory goes whether or not the checks passed.
    let outcome = tokio::spawn({
        let hdfs = WebHdfs { base: hdfs.base.clone(), client: hdfs.client.clone() };
        let dir = dir.clone();
        async move { hdfs_round_trip(&hdfs, &dir).await }
    })
    .await;
    let deleted = hdfs.call(Method::DELETE, &dir, "DELETE", "hdfs", "&recursive=true").await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    assert_eq!(deleted.status, StatusCode::OK, "DELETE {dir} as hdfs: {}", deleted.body);
    assert_eq!(deleted.json()["boolean"], true, "DELETE {dir}: {}", deleted.body);
    let gone = hdfs.call(Method::GET, &dir, "GETFILESTATUS", "hdfs", "").await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND, "{dir} is still there after DELETE: {}", gone.body);
}
