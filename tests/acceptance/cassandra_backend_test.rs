//! The Cassandra backend (`backends::cassandra`) against the stack's real Apache Cassandra 5:
//! every `Database` method, each proven by the server itself where it can be (a new password
//! is proven by logging in with it, a grant by the role reading and writing, a revoke by the
//! server refusing). Names are unique, so these run in parallel; each test drops what it made,
//! even when it fails.
//!
//! Start the service with `STACK_SERVICES=cassandra bash scripts/stack-up.sh DIR` and source
//! DIR/stack.env; without its variables each test fails and says so.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{DbError, ExecutionError, RequestAttemptError};
use terraform_provider_datamesh::backends::cassandra::CassandraDatabase;
use terraform_provider_datamesh::backends::database::{Database, Permission};
use terraform_provider_datamesh::backends::error::{Diagnose, ErrorKind};
use terraform_provider_datamesh::provider::config::Secret;
use terraform_provider_datamesh::provider::settings::cassandra::CassandraSettings;
use tokio_util::sync::CancellationToken;

use crate::support::unique;

/// A variable of stack.env; a test without it fails loudly (never skips).
fn stack_var(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{var} is not set: this test needs the local stack's Cassandra. Start it with \
             `STACK_SERVICES=cassandra bash scripts/stack-up.sh /tmp/cass-stack` and \
             `. /tmp/cass-stack/stack.env` (or start the whole stack with scripts/stack-up.sh)."
        ),
    }
}

/// The provider's settings for the stack's Cassandra, as `cassandra {}` would give them.
fn settings() -> CassandraSettings {
    CassandraSettings {
        contact_points: stack_var("DATAMESH_CASSANDRA_CONTACT_POINTS")
            .split(',')
            .map(|p| p.trim().to_string())
            .collect(),
        username: Some(stack_var("DATAMESH_CASSANDRA_USERNAME")),
        password: Some(Secret(stack_var("DATAMESH_CASSANDRA_PASSWORD"))),
        ..CassandraSettings::default()
    }
}

async fn connect() -> Arc<CassandraDatabase> {
    let s = settings();
    let db = CassandraDatabase::connect(&s, CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("connecting the Cassandra backend to {:?} failed: {e}", s.contact_points));
    Arc::new(db)
}

/// A plain driver session, logged in as `user`: what a domain's client would do.
async fn login(user: &str, password: &str) -> Result<Session, scylla::errors::NewSessionError> {
    SessionBuilder::new()
        .known_nodes(settings().contact_points)
        .user(user, password)
        .connection_timeout(Duration::from_secs(10))
        .build()
        .await
}

async fn admin() -> Session {
    let user = stack_var("DATAMESH_CASSANDRA_USERNAME");
    login(&user, &stack_var("DATAMESH_CASSANDRA_PASSWORD"))
        .await
        .unwrap_or_else(|e| panic!("CQL login as the stack's admin {user} failed: {e}"))
}

fn assert_login_refused(r: Result<Session, scylla::errors::NewSessionError>, who: &str) {
    match r {
        Ok(_) => panic!("{who}: the login was accepted"),
        Err(e) => {
            let text = format!("{e} {e:?}");
            assert!(text.contains("AuthenticationError"), "{who}: the login must fail authentication, got: {text}");
        }
    }
}

fn one_replica() -> BTreeMap<String, i64> {
    BTreeMap::from([("datacenter1".to_string(), 1)])
}

/// Whether a statement failed because the server said Unauthorized.
fn is_unauthorized(r: &Result<scylla::response::query_result::QueryResult, ExecutionError>) -> bool {
    matches!(r, Err(ExecutionError::LastAttemptError(RequestAttemptError::DbError(DbError::Unauthorized, _))))
}

/// Runs `body`, then `cleanup` whether or not `body` panicked, then passes the panic on.
async fn with_cleanup<B, C>(body: B, cleanup: C)
where
    B: Future<Output = ()> + Send + 'static,
    C: Future<Output = ()>,
{
    let outcome = tokio::spawn(body).await;
    cleanup.await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
}

#[tokio::test]
async fn cassandra_backend_keyspace_lifecycle() {
    let db = connect().await;
    let ks = format!("cbt_{}", unique('k'));
    let body = {
        let (db, ks) = (db.clone(), ks.clone());
        async move {
            assert_eq!(db.keyspace(&ks).await.unwrap(), None, "{ks} exists before it was made");
            db.create_keyspace(&ks, &one_replica()).await.unwrap();
            let info = db.keyspace(&ks).await.unwrap().unwrap_or_else(|| panic!("{ks} is not there after CREATE"));
            assert_eq!(info.strategy, "NetworkTopologyStrategy");
            assert_eq!(info.replication, one_replica());
            assert_eq!(info.tables, 0);

            let again = db.create_keyspace(&ks, &one_replica()).await.unwrap_err();
            assert!(again.is(ErrorKind::AlreadyExists), "a second CREATE KEYSPACE: {again}");
            assert_eq!(again.code.as_deref(), Some("AlreadyExists"));
            assert!(again.message.contains(&ks), "the error names the keyspace: {again}");

            // A single node takes a factor of 2 (the server warns); it is read back as set.
            let two = BTreeMap::from([("datacenter1".to_string(), 2)]);
            db.alter_keyspace(&ks, &two).await.unwrap();
            assert_eq!(db.keyspace(&ks).await.unwrap().unwrap().replication, two);

            admin()
                .await
                .query_unpaged(format!("CREATE TABLE \"{ks}\".\"orders\" (id int PRIMARY KEY, v text)"), ())
                .await
                .unwrap();
            assert_eq!(db.keyspace(&ks).await.unwrap().unwrap().tables, 1);

            let unknown_dc =
                db.create_keyspace(&format!("{ks}_x"), &BTreeMap::from([("nowhere".to_string(), 1)])).await;
            let e = unknown_dc.unwrap_err();
            assert!(e.is(ErrorKind::Other) && e.code.as_deref() == Some("ConfigError"), "{e}");
            assert!(e.message.contains("nowhere"), "{e}");

            db.drop_keyspace(&ks).await.unwrap();
            assert_eq!(db.keyspace(&ks).await.unwrap(), None, "{ks} is still there after DROP");
            db.drop_keyspace(&ks).await.expect("dropping a keyspace that is gone is fine");

            let missing = db.alter_keyspace(&ks, &one_replica()).await.unwrap_err();
            assert!(missing.is(ErrorKind::NotFound), "ALTER of a missing keyspace: {missing}");

            // Refused before anything is sent.
            for bad in ["x'; DROP KEYSPACE system_auth; --", "has-dash", "", &"k".repeat(49)] {
                let e = db.create_keyspace(bad, &one_replica()).await.unwrap_err();
                assert!(e.is(ErrorKind::Other) && e.code.is_none(), "{bad:?}: {e}");
            }
        }
    };
    with_cleanup(body, async {
        db.drop_keyspace(&ks).await.ok();
    })
    .await;
}

#[tokio::test]
async fn cassandra_backend_role_passwords_are_proven_by_logging_in() {
    let db = connect().await;
    // A name that needs quoting, and a password that would break out of a badly quoted literal.
    let role = format!("cbt-\"q\";ü-{}", unique('r'));
    let first = "p'w\"d; DROP KEYSPACE system_auth; --ü".to_string();
    let second = "second ' password ;; \" with quotes".to_string();
    let body = {
        let (db, role, first, second) = (db.clone(), role.clone(), first.clone(), second.clone());
        async move {
            assert_eq!(db.role(&role).await.unwrap(), None);
            db.create_role(&role, Some(&Secret(first.clone()))).await.unwrap();
            assert_eq!(db.role(&role).await.unwrap().map(|r| r.login), Some(true));
            login(&role, &first).await.unwrap_or_else(|e| panic!("login as {role:?} with its password failed: {e}"));

            let again = db.create_role(&role, Some(&Secret(first.clone()))).await.unwrap_err();
            assert!(again.is(ErrorKind::AlreadyExists), "a second CREATE ROLE: {again}");
            for printed in [again.to_string(), format!("{again:?}"), again.diagnostic("role").detail] {
                assert!(!printed.contains(&first) && !printed.contains("DROP KEYSPACE"), "{printed}");
            }

            // Cassandra 5 refuses a password change within 5 s of the last (Overloaded): the
            // backend retries it until it passes.
            let started = Instant::now();
            db.alter_role(&role, Some(&Secret(second.clone()))).await.unwrap();
            eprintln!("alter_role took {:?}", started.elapsed());
            assert_login_refused(login(&role, &first).await, "the old password after alter_role");
            login(&role, &second)
                .await
                .unwrap_or_else(|e| panic!("login as {role:?} with the new password failed: {e}"));

            db.alter_role(&role, None).await.unwrap();
            assert_eq!(db.role(&role).await.unwrap().map(|r| r.login), Some(false));
            assert_login_refused(login(&role, &second).await, "a role altered to LOGIN = false");

            db.drop_role(&role).await.unwrap();
            assert_eq!(db.role(&role).await.unwrap(), None);
            db.drop_role(&role).await.expect("dropping a role that is gone is fine");
            let missing = db.alter_role(&role, None).await.unwrap_err();
            assert!(missing.is(ErrorKind::NotFound), "ALTER of a missing role: {missing}");

            db.create_role(&role, None).await.unwrap();
            assert_eq!(db.role(&role).await.unwrap().map(|r| r.login), Some(false), "a role made without a password");
            assert_login_refused(login(&role, &second).await, "a role made without a password");
        }
    };
    with_cleanup(body, async {
        db.drop_role(&role).await.ok();
    })
    .await;
}

#[tokio::test]
async fn cassandra_backend_grants_are_proven_by_the_server() {
    let db = connect().await;
    let ks = format!("cbt_{}", unique('g'));
    let role = format!("cbt-{}", unique('c'));
    let body = {
        let (db, ks, role) = (db.clone(), ks.clone(), role.clone());
        async move {
            let password = "consumer's; \"pass\"";
            db.create_keyspace(&ks, &one_replica()).await.unwrap();
            admin()
                .await
                .query_unpaged(format!("CREATE TABLE \"{ks}\".\"orders\" (id int PRIMARY KEY, v text)"), ())
                .await
                .unwrap();
            db.create_role(&role, Some(&Secret(password.into()))).await.unwrap();
            let consumer = login(&role, password).await.unwrap_or_else(|e| panic!("login as {role} failed: {e}"));
            let select = format!("SELECT v FROM \"{ks}\".\"orders\" WHERE id = 1");
            let insert = format!("INSERT INTO \"{ks}\".\"orders\" (id, v) VALUES (1, 'x')");
            let held = |set: &[&str]| set.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

            assert!(db.permissions(&role, &ks).await.unwrap().is_empty());
            assert!(is_unauthorized(&consumer.query_unpaged(select.as_str(), ()).await), "SELECT before any grant");

            db.grant(Permission::Select, &ks, &role).await.unwrap();
            assert_eq!(db.permissions(&role, &ks).await.unwrap(), held(&["SELECT"]));
            consumer
                .query_unpaged(select.as_str(), ())
                .await
                .unwrap_or_else(|e| panic!("SELECT after GRANT SELECT: {e}"));
            assert!(is_unauthorized(&consumer.query_unpaged(insert.as_str(), ()).await), "INSERT with SELECT only");

            db.grant(Permission::Modify, &ks, &role).await.unwrap();
            assert_eq!(db.permissions(&role, &ks).await.unwrap(), held(&["MODIFY", "SELECT"]));
            consumer
                .query_unpaged(insert.as_str(), ())
                .await
                .unwrap_or_else(|e| panic!("INSERT after GRANT MODIFY: {e}"));

            db.revoke(Permission::Modify, &ks, &role).await.unwrap();
            assert_eq!(db.permissions(&role, &ks).await.unwrap(), held(&["SELECT"]));
            assert!(is_unauthorized(&consumer.query_unpaged(insert.as_str(), ()).await), "INSERT after REVOKE MODIFY");
            db.revoke(Permission::Select, &ks, &role).await.unwrap();
            assert!(db.permissions(&role, &ks).await.unwrap().is_empty());
            assert!(is_unauthorized(&consumer.query_unpaged(select.as_str(), ()).await), "SELECT after REVOKE SELECT");
            db.revoke(Permission::Select, &ks, &role).await.expect("revoking what is not held is fine");

            db.grant(Permission::All, &ks, &role).await.unwrap();
            let all = db.permissions(&role, &ks).await.unwrap();
            eprintln!("ALL PERMISSIONS on Cassandra reads back as {all:?}");
            assert!(
                held(&["ALTER", "AUTHORIZE", "CREATE", "DROP", "MODIFY", "SELECT"]).is_subset(&all),
                "ALL PERMISSIONS read back as {all:?}"
            );
            consumer.query_unpaged(insert.as_str(), ()).await.unwrap_or_else(|e| panic!("INSERT after GRANT ALL: {e}"));
            db.revoke(Permission::All, &ks, &role).await.unwrap();
            assert!(db.permissions(&role, &ks).await.unwrap().is_empty());

            // A keyspace or role that is not there.
            let gone = format!("{ks}_gone");
            let e = db.grant(Permission::Select, &gone, &role).await.unwrap_err();
            assert!(e.is(ErrorKind::NotFound) && e.message.contains(&gone), "GRANT on a missing keyspace: {e}");
            db.revoke(Permission::Select, &gone, &role).await.expect("revoking on a missing keyspace is fine");
            db.revoke(Permission::Select, &ks, "cbt-nobody").await.expect("revoking from a missing role is fine");
            assert!(db.permissions(&role, &gone).await.unwrap().is_empty());
            assert!(db.permissions("cbt-nobody", &ks).await.unwrap().is_empty());
        }
    };
    with_cleanup(body, async {
        db.drop_keyspace(&ks).await.ok();
        db.drop_role(&role).await.ok();
    })
    .await;
}

#[tokio::test]
async fn cassandra_backend_wrong_password_is_an_auth_error() {
    let mut s = settings();
    let wrong = format!("{}-not-it", stack_var("DATAMESH_CASSANDRA_PASSWORD"));
    s.password = Some(Secret(wrong.clone()));
    let e = match CassandraDatabase::connect(&s, CancellationToken::new()).await {
        Ok(_) => panic!("connect with a wrong password succeeded"),
        Err(e) => e,
    };
    assert!(e.is(ErrorKind::Auth), "a wrong password: {e}");
    assert_eq!(e.code.as_deref(), Some("AuthenticationError"), "{e}");
    assert!(e.message.contains(&s.contact_points[0]), "the error names the contact point: {e}");
    assert!(!e.to_string().contains(&wrong), "the error shows the password: {e}");
}

#[tokio::test]
async fn cassandra_backend_a_dead_port_names_the_contact_point() {
    // A port that was free a moment ago and has nothing listening now.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let point = format!("127.0.0.1:{port}");
    let s = CassandraSettings { contact_points: vec![point.clone()], timeout: Duration::from_secs(2), ..settings() };
    let started = Instant::now();
    let e = match CassandraDatabase::connect(&s, CancellationToken::new()).await {
        Ok(_) => panic!("connect to {point}, where nothing listens, succeeded"),
        Err(e) => e,
    };
    let took = started.elapsed();
    assert!(e.is(ErrorKind::Transient), "a cluster that is down: {e}");
    assert!(e.message.contains(&point), "the error names the contact point: {e}");
    assert!(took >= Duration::from_millis(1500), "gave up before the timeout, after {took:?}");
    assert!(took < Duration::from_secs(15), "took {took:?} with a 2 s timeout");
}

#[tokio::test]
async fn cassandra_backend_an_unknown_datacenter_is_refused_at_connect() {
    let s = CassandraSettings { local_datacenter: "nowhere".into(), ..settings() };
    let e = match CassandraDatabase::connect(&s, CancellationToken::new()).await {
        Ok(_) => panic!("connect with local_datacenter \"nowhere\" succeeded"),
        Err(e) => e,
    };
    assert!(e.message.contains("\"nowhere\"") && e.message.contains("datacenter1"), "{e}");
}
