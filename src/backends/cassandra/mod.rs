//! The real `Database`: Apache Cassandra (any cluster speaking the CQL native protocol) through
//! the `scylla` driver, with TLS through rustls when `ca_cert_pem` is set. Every statement's
//! text comes from [`crate::cql`]; keyspace metadata is read from `system_schema`, roles and
//! permissions with `LIST ROLES` and `LIST ALL PERMISSIONS`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use scylla::client::execution_profile::ExecutionProfile;
use scylla::client::session::Session;
use scylla::client::session_builder::SessionBuilder;
use scylla::errors::{
    ConnectionError, ConnectionPoolError, ConnectionSetupRequestErrorKind, DbError, ExecutionError, MetadataError,
    MetadataFetchErrorKind, NewSessionError, PrepareError, RequestAttemptError,
};
use scylla::response::query_result::QueryRowsResult;
use scylla::value::{CqlValue, Row};
use tokio_util::sync::CancellationToken;

use super::database::{Database, KeyspaceInfo, Permission, RoleInfo};
use super::error::{BackendError, ErrorKind};
use super::retry::{with_retries, RetryPolicy};
use crate::cql::{self, CqlError, Statement};
use crate::provider::config::Secret;
use crate::provider::settings::cassandra::CassandraSettings;

/// `BackendError::service` of every error from here.
const SERVICE: &str = "Cassandra";

/// A Cassandra cluster through one driver session (a connection pool per node).
pub struct CassandraDatabase {
    session: Session,
    /// The contact points as configured, for messages.
    contact_points: String,
    timeout: Duration,
    stop: CancellationToken,
}

impl CassandraDatabase {
    /// Logs in (retrying a cluster that is down or starting for up to `settings.timeout`) and
    /// checks that `local_datacenter` is one of the cluster's.
    pub async fn connect(settings: &CassandraSettings, stop: CancellationToken) -> Result<Self, BackendError> {
        let points = settings.contact_points.join(", ");
        let fail = |kind, message: String| BackendError::new(kind, SERVICE, "Connect", message);
        if settings.contact_points.is_empty() {
            return Err(fail(
                ErrorKind::Other,
                "no contact points: set cassandra.contact_points or DATAMESH_CASSANDRA_CONTACT_POINTS".into(),
            ));
        }
        let profile = ExecutionProfile::builder().request_timeout(Some(settings.timeout)).build();
        let mut builder = SessionBuilder::new()
            .known_nodes(&settings.contact_points)
            .prefer_datacenter(settings.local_datacenter.clone())
            .connection_timeout(settings.timeout)
            .default_execution_profile_handle(profile.into_handle())
            // Each DDL statement returns once every node has its schema change.
            .auto_await_schema_agreement(true)
            .schema_agreement_timeout(settings.timeout)
            // The backend reads system_schema itself; the driver's copy of every table's
            // schema would only cost start-up time.
            .fetch_schema_metadata(false);
        match (&settings.username, &settings.password) {
            (Some(user), Some(password)) => builder = builder.user(user, &password.0),
            (None, None) => {}
            (Some(user), None) => {
                let message = format!(
                    "cassandra.username is {user:?} but no password is set \
                     (cassandra.password or DATAMESH_CASSANDRA_PASSWORD)"
                );
                return Err(fail(ErrorKind::Auth, message));
            }
            (None, Some(_)) => {
                return Err(fail(
                    ErrorKind::Auth,
                    "cassandra.password is set but no username (cassandra.username or DATAMESH_CASSANDRA_USERNAME)"
                        .into(),
                ));
            }
        }
        if let Some(pem) = &settings.ca_cert_pem {
            let tls = tls_config(pem).map_err(|m| fail(ErrorKind::Other, m))?;
            builder = builder.tls_context(Some(Arc::new(tls)));
        }
        let login = settings.username.as_deref().map(|u| format!(" as {u:?}")).unwrap_or_default();
        let session = with_retries(RetryPolicy::within(settings.timeout), &stop, || async {
            builder.build().await.map_err(|e| {
                let cause = Cause::of_new_session(&e);
                let message = match cause.kind {
                    ErrorKind::Auth => format!("login{login} on {points} refused: {}", cause.detail),
                    _ => format!("cannot connect to {points}{login}: {}", cause.detail),
                };
                cause.into_error("Connect", message)
            })
        })
        .await?;

        let cluster = session.get_cluster_state();
        let datacenters: BTreeSet<&str> =
            cluster.get_nodes_info().iter().filter_map(|n| n.datacenter.as_deref()).collect();
        if !datacenters.is_empty() && !datacenters.contains(settings.local_datacenter.as_str()) {
            let known: Vec<&str> = datacenters.into_iter().collect();
            return Err(fail(
                ErrorKind::Other,
                format!(
                    "the cluster at {points} has no datacenter {:?} (it has {}): set cassandra.local_datacenter to one of them",
                    settings.local_datacenter,
                    known.join(", ")
                ),
            ));
        }
        Ok(Self { session, contact_points: points, timeout: settings.timeout, stop })
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy::within(self.timeout)
    }

    /// Sends a statement without bind values, retrying transient failures; its rows, or None
    /// for a statement that answers without rows (DDL, GRANT).
    async fn execute(
        &self,
        op: &'static str,
        what: &str,
        stmt: &Statement,
    ) -> Result<Option<QueryRowsResult>, BackendError> {
        tracing::debug!(statement = %stmt, "CQL");
        with_retries(self.policy(), &self.stop, || async {
            let result = self
                .session
                .query_unpaged(stmt.cql(), ())
                .await
                .map_err(|e| statement_error(op, what, stmt, &e, &self.contact_points))?;
            Ok(result.into_rows_result().ok())
        })
        .await
    }

    /// Runs one of `cql`'s fixed queries with `keyspace` as its bind value.
    async fn select_by_keyspace(
        &self,
        op: &'static str,
        query: &'static str,
        keyspace: &str,
    ) -> Result<QueryRowsResult, BackendError> {
        tracing::debug!(statement = query, keyspace, "CQL");
        let what = format!("keyspace {keyspace:?}");
        let result = with_retries(self.policy(), &self.stop, || async {
            self.session.query_unpaged(query, (keyspace,)).await.map_err(|e| {
                let cause = Cause::of_execution(&e);
                let message = message(&what, cause.kind, &cause.detail, &self.contact_points);
                cause.into_error(op, message)
            })
        })
        .await?;
        result.into_rows_result().map_err(|e| unexpected(op, format!("{query} for {what} returned no rows: {e}")))
    }
}

/// `what` failed: `detail`, and where the cluster is when it may be down.
fn message(what: &str, kind: ErrorKind, detail: &str, contact_points: &str) -> String {
    match kind {
        ErrorKind::Transient => format!("{what}: {detail} (contact points {contact_points})"),
        _ => format!("{what}: {detail}"),
    }
}

/// The error of a failed statement about `what`; a password the statement holds is scrubbed
/// from whatever the server or the driver said.
fn statement_error(
    op: &'static str,
    what: &str,
    stmt: &Statement,
    e: &ExecutionError,
    contact_points: &str,
) -> BackendError {
    let cause = Cause::of_execution(e);
    let detail = if stmt.has_secret() && cause.code.as_deref() == Some("SyntaxError") {
        // The server quotes the statement around the error, maybe a piece of the password.
        "the server refused the statement's syntax (its message is withheld: it may quote the password)".to_string()
    } else {
        stmt.redact(&cause.detail)
    };
    let message = message(what, cause.kind, &detail, contact_points);
    cause.into_error(op, message)
}

/// A value `cql` refused: nothing was sent.
fn refused(op: &'static str, e: CqlError) -> BackendError {
    BackendError::new(ErrorKind::Other, SERVICE, op, e.message)
}

/// An answer of a shape the backend does not expect.
fn unexpected(op: &'static str, message: String) -> BackendError {
    BackendError::new(ErrorKind::Other, SERVICE, op, message)
}

/// Trusts `ca_cert_pem` alone. The driver verifies each node's certificate against the node's
/// IP address (it connects with `ServerName::IpAddress`), so the certificates need IP SANs.
fn tls_config(ca_cert_pem: &str) -> Result<rustls::ClientConfig, String> {
    super::tls::client_config(Some(ca_cert_pem)).map_err(|m| format!("cassandra: {m}"))
}

// ------------------------------------------------------------------------------ errors ----

/// What a driver error means for the provider: its kind, the server's error name when the
/// server answered, and the text to show.
#[derive(Debug)]
struct Cause {
    kind: ErrorKind,
    code: Option<String>,
    detail: String,
}

impl Cause {
    fn transient(detail: String) -> Self {
        Self { kind: ErrorKind::Transient, code: None, detail }
    }

    fn other(detail: String) -> Self {
        Self { kind: ErrorKind::Other, code: None, detail }
    }

    fn of_db(db: &DbError, message: &str) -> Self {
        Self { kind: db_kind(db, message), code: Some(db_code(db)), detail: message.to_string() }
    }

    fn into_error(self, op: &'static str, message: String) -> BackendError {
        let e = BackendError::new(self.kind, SERVICE, op, message);
        match self.code {
            Some(code) => e.with_code(code),
            None => e,
        }
    }

    fn of_attempt(e: &RequestAttemptError) -> Self {
        match e {
            RequestAttemptError::DbError(db, message) => Self::of_db(db, message),
            RequestAttemptError::BrokenConnectionError(_) | RequestAttemptError::UnableToAllocStreamId => {
                Self::transient(e.to_string())
            }
            _ => Self::other(e.to_string()),
        }
    }

    fn of_connection(e: &ConnectionError) -> Self {
        match e {
            ConnectionError::ConnectionSetupRequestError(setup) => match setup.get_error() {
                ConnectionSetupRequestErrorKind::DbError(db, message) => Self::of_db(db, message),
                ConnectionSetupRequestErrorKind::MissingAuthentication => Self {
                    kind: ErrorKind::Auth,
                    code: None,
                    detail: "the cluster requires a login: set cassandra.username and cassandra.password".into(),
                },
                ConnectionSetupRequestErrorKind::BrokenConnection(_)
                | ConnectionSetupRequestErrorKind::UnableToAllocStreamId => Self::transient(e.to_string()),
                _ => Self::other(e.to_string()),
            },
            // A TLS handshake that fails (an unknown CA, a name mismatch) fails the same way
            // next time: not worth retrying.
            ConnectionError::IoError(io)
                if matches!(io.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::InvalidInput) =>
            {
                Self::other(e.to_string())
            }
            ConnectionError::ConnectTimeout | ConnectionError::IoError(_) | ConnectionError::BrokenConnection(_) => {
                Self::transient(e.to_string())
            }
            _ => Self::other(e.to_string()),
        }
    }

    fn of_pool(e: &ConnectionPoolError) -> Self {
        match e {
            ConnectionPoolError::Broken { last_connection_error } => Self::of_connection(last_connection_error),
            _ => Self::transient(e.to_string()),
        }
    }

    fn of_new_session(e: &NewSessionError) -> Self {
        match e {
            NewSessionError::MetadataError(MetadataError::ConnectionPoolError(pool)) => Self::of_pool(pool),
            NewSessionError::MetadataError(MetadataError::FetchError(fetch)) => match &fetch.error {
                MetadataFetchErrorKind::PrepareError(attempt) => Self::of_attempt(attempt),
                _ => Self::other(e.to_string()),
            },
            NewSessionError::FailedToResolveAnyHostname(hosts) => {
                Self::other(format!("cannot resolve any of the hosts {}", hosts.join(", ")))
            }
            _ => Self::other(e.to_string()),
        }
    }

    fn of_execution(e: &ExecutionError) -> Self {
        match e {
            ExecutionError::LastAttemptError(attempt) => Self::of_attempt(attempt),
            ExecutionError::ConnectionPoolError(pool) => Self::of_pool(pool),
            ExecutionError::PrepareError(PrepareError::AllAttemptsFailed { first_attempt }) => {
                Self::of_attempt(first_attempt)
            }
            ExecutionError::PrepareError(PrepareError::ConnectionPoolError(pool)) => Self::of_pool(pool),
            ExecutionError::RequestTimeout(after) => Self::transient(format!("no answer within {after:?}")),
            // The change is made; the nodes had not all applied it within the timeout.
            ExecutionError::SchemaAgreementError(_) => Self::transient(e.to_string()),
            // The load balancing plan holds only live nodes of the local datacenter (connect
            // checked that it exists), so an empty plan means they are all down.
            ExecutionError::EmptyPlan => {
                Self::transient("no node of the local datacenter (cassandra.local_datacenter) is up".into())
            }
            _ => Self::other(e.to_string()),
        }
    }
}

/// The server's name for its error, as the driver decodes it.
fn db_code(db: &DbError) -> String {
    let name = match db {
        DbError::SyntaxError => "SyntaxError",
        DbError::Invalid => "Invalid",
        DbError::AlreadyExists { .. } => "AlreadyExists",
        DbError::FunctionFailure { .. } => "FunctionFailure",
        DbError::AuthenticationError => "AuthenticationError",
        DbError::Unauthorized => "Unauthorized",
        DbError::ConfigError => "ConfigError",
        DbError::Unavailable { .. } => "Unavailable",
        DbError::Overloaded => "Overloaded",
        DbError::IsBootstrapping => "IsBootstrapping",
        DbError::TruncateError => "TruncateError",
        DbError::ReadTimeout { .. } => "ReadTimeout",
        DbError::WriteTimeout { .. } => "WriteTimeout",
        DbError::ReadFailure { .. } => "ReadFailure",
        DbError::WriteFailure { .. } => "WriteFailure",
        DbError::Unprepared { .. } => "Unprepared",
        DbError::ServerError => "ServerError",
        DbError::ProtocolError => "ProtocolError",
        DbError::RateLimitReached { .. } => "RateLimitReached",
        DbError::Other(code) => return format!("0x{code:04X}"),
        _ => "Unknown",
    };
    name.to_string()
}

/// The kind of a server error. Cassandra answers a role that exists, or a keyspace or role
/// that does not, with a plain `Invalid` whose message says so ("sales already exists",
/// "Role sales doesn't exist", "<keyspace x> doesn't exist").
fn db_kind(db: &DbError, message: &str) -> ErrorKind {
    match db {
        DbError::AlreadyExists { .. } => ErrorKind::AlreadyExists,
        DbError::AuthenticationError | DbError::Unauthorized => ErrorKind::Auth,
        // Overloaded includes Cassandra 5's "Password for role x can only be changed every
        // 5000ms": it passes once the interval has.
        DbError::Unavailable { .. }
        | DbError::Overloaded
        | DbError::IsBootstrapping
        | DbError::ReadTimeout { .. }
        | DbError::WriteTimeout { .. }
        | DbError::RateLimitReached { .. } => ErrorKind::Transient,
        DbError::Invalid if message.ends_with("already exists") => ErrorKind::AlreadyExists,
        DbError::Invalid if message.ends_with("doesn't exist") => ErrorKind::NotFound,
        _ => ErrorKind::Other,
    }
}

// ---------------------------------------------------------------------------- answers ----

/// The rows of a LIST answer, each as column name → value (null columns left out): its
/// columns differ between Cassandra versions, so they are found by name.
fn named_rows(op: &'static str, rows: &QueryRowsResult) -> Result<Vec<BTreeMap<String, CqlValue>>, BackendError> {
    let names: Vec<String> = rows.column_specs().iter().map(|c| c.name().to_string()).collect();
    let typed = rows.rows::<Row>().map_err(|e| unexpected(op, format!("unreadable answer: {e}")))?;
    let mut out = Vec::new();
    for row in typed {
        let row = row.map_err(|e| unexpected(op, format!("unreadable row: {e}")))?;
        out.push(names.iter().cloned().zip(row.columns).filter_map(|(n, v)| v.map(|v| (n, v))).collect());
    }
    Ok(out)
}

fn text<'a>(row: &'a BTreeMap<String, CqlValue>, column: &str) -> Option<&'a str> {
    row.get(column).and_then(CqlValue::as_text).map(String::as_str)
}

/// Whether `name` may log in, from `LIST ROLES OF name NORECURSIVE` (which also lists the roles
/// granted to it); None when it is not listed.
fn role_login(rows: &[BTreeMap<String, CqlValue>], name: &str) -> Result<Option<bool>, String> {
    let Some(row) = rows.iter().find(|r| text(r, "role") == Some(name)) else { return Ok(None) };
    match row.get("login").and_then(CqlValue::as_boolean) {
        Some(login) => Ok(Some(login)),
        None => Err(format!("LIST ROLES answered role {name:?} without a boolean `login` column")),
    }
}

/// The permissions `role` holds directly on `keyspace`, from `LIST ALL PERMISSIONS ON
/// KEYSPACE keyspace OF role NORECURSIVE`, which also lists what roles granted to it hold.
fn held_permissions(
    rows: &[BTreeMap<String, CqlValue>],
    role: &str,
    keyspace: &str,
) -> Result<BTreeSet<String>, String> {
    let resource = cql::keyspace_resource(keyspace);
    let mut held = BTreeSet::new();
    for row in rows.iter().filter(|r| text(r, "role") == Some(role) && text(r, "resource") == Some(resource.as_str())) {
        match text(row, "permission") {
            Some(p) => held.insert(p.to_string()),
            None => return Err(format!("LIST PERMISSIONS answered a row for role {role:?} without a `permission`")),
        };
    }
    Ok(held)
}

/// A keyspace's strategy class without its package, and its options as factors, from
/// `system_schema.keyspaces.replication`.
fn parse_replication(
    keyspace: &str,
    replication: &HashMap<String, String>,
) -> Result<(String, BTreeMap<String, i64>), String> {
    let class =
        replication.get("class").ok_or_else(|| format!("the replication of keyspace {keyspace:?} names no class"))?;
    let strategy = class.rsplit('.').next().unwrap_or(class).to_string();
    let mut factors = BTreeMap::new();
    for (dc, factor) in replication.iter().filter(|(k, _)| k.as_str() != "class") {
        // Transient replication writes a factor as "3/1"; this provider never sets one.
        let n = factor.trim().parse::<i64>().map_err(|_| {
            format!("keyspace {keyspace:?} has replication factor {factor:?} for {dc:?}, which is not a whole number")
        })?;
        factors.insert(dc.clone(), n);
    }
    Ok((strategy, factors))
}

fn keyspace_what(name: &str) -> String {
    format!("keyspace {name:?}")
}

fn role_what(name: &str) -> String {
    format!("role {name:?}")
}

fn permission_what(permission: Permission, keyspace: &str, role: &str) -> String {
    format!("{} on keyspace {keyspace:?} for role {role:?}", permission.cql())
}

#[async_trait]
impl Database for CassandraDatabase {
    async fn keyspace(&self, name: &str) -> Result<Option<KeyspaceInfo>, BackendError> {
        const OP: &str = "SELECT system_schema.keyspaces";
        let rows = self.select_by_keyspace(OP, cql::SELECT_KEYSPACE, name).await?;
        let first = rows
            .maybe_first_row::<(HashMap<String, String>,)>()
            .map_err(|e| unexpected(OP, format!("unreadable replication of {}: {e}", keyspace_what(name))))?;
        let Some((replication,)) = first else { return Ok(None) };
        let (strategy, replication) = parse_replication(name, &replication).map_err(|m| unexpected(OP, m))?;
        let tables = self.select_by_keyspace("SELECT system_schema.tables", cql::SELECT_TABLES, name).await?.rows_num();
        Ok(Some(KeyspaceInfo { strategy, replication, tables }))
    }

    async fn create_keyspace(&self, name: &str, replication: &BTreeMap<String, i64>) -> Result<(), BackendError> {
        const OP: &str = "CREATE KEYSPACE";
        let stmt = cql::create_keyspace(name, replication).map_err(|e| refused(OP, e))?;
        self.execute(OP, &keyspace_what(name), &stmt).await.map(drop)
    }

    async fn alter_keyspace(&self, name: &str, replication: &BTreeMap<String, i64>) -> Result<(), BackendError> {
        const OP: &str = "ALTER KEYSPACE";
        let stmt = cql::alter_keyspace(name, replication).map_err(|e| refused(OP, e))?;
        self.execute(OP, &keyspace_what(name), &stmt).await.map(drop)
    }

    async fn drop_keyspace(&self, name: &str) -> Result<(), BackendError> {
        const OP: &str = "DROP KEYSPACE";
        let stmt = cql::drop_keyspace(name).map_err(|e| refused(OP, e))?;
        self.execute(OP, &keyspace_what(name), &stmt).await.map(drop)
    }

    async fn role(&self, name: &str) -> Result<Option<RoleInfo>, BackendError> {
        const OP: &str = "LIST ROLES";
        let stmt = cql::list_role(name).map_err(|e| refused(OP, e))?;
        let rows = match self.execute(OP, &role_what(name), &stmt).await {
            Ok(rows) => rows,
            Err(e) if e.is(ErrorKind::NotFound) => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(rows) = rows else {
            return Err(unexpected(OP, format!("LIST ROLES of {} returned no rows", role_what(name))));
        };
        let login = role_login(&named_rows(OP, &rows)?, name).map_err(|m| unexpected(OP, m))?;
        Ok(login.map(|login| RoleInfo { login }))
    }

    async fn create_role(&self, name: &str, password: Option<&Secret>) -> Result<(), BackendError> {
        const OP: &str = "CREATE ROLE";
        let stmt = cql::create_role(name, password.map(|p| p.0.as_str())).map_err(|e| refused(OP, e))?;
        self.execute(OP, &role_what(name), &stmt).await.map(drop)
    }

    async fn alter_role(&self, name: &str, password: Option<&Secret>) -> Result<(), BackendError> {
        const OP: &str = "ALTER ROLE";
        let stmt = cql::alter_role(name, password.map(|p| p.0.as_str())).map_err(|e| refused(OP, e))?;
        self.execute(OP, &role_what(name), &stmt).await.map(drop)
    }

    async fn drop_role(&self, name: &str) -> Result<(), BackendError> {
        const OP: &str = "DROP ROLE";
        let stmt = cql::drop_role(name).map_err(|e| refused(OP, e))?;
        self.execute(OP, &role_what(name), &stmt).await.map(drop)
    }

    async fn grant(&self, permission: Permission, keyspace: &str, role: &str) -> Result<(), BackendError> {
        const OP: &str = "GRANT";
        let stmt = cql::grant(permission, keyspace, role).map_err(|e| refused(OP, e))?;
        self.execute(OP, &permission_what(permission, keyspace, role), &stmt).await.map(drop)
    }

    async fn revoke(&self, permission: Permission, keyspace: &str, role: &str) -> Result<(), BackendError> {
        const OP: &str = "REVOKE";
        let stmt = cql::revoke(permission, keyspace, role).map_err(|e| refused(OP, e))?;
        match self.execute(OP, &permission_what(permission, keyspace, role), &stmt).await {
            // A keyspace or role that is gone holds nothing to revoke.
            Err(e) if e.is(ErrorKind::NotFound) => Ok(()),
            other => other.map(drop),
        }
    }

    async fn permissions(&self, role: &str, keyspace: &str) -> Result<BTreeSet<String>, BackendError> {
        const OP: &str = "LIST PERMISSIONS";
        let stmt = cql::list_permissions(keyspace, role).map_err(|e| refused(OP, e))?;
        let what = format!("role {role:?} on keyspace {keyspace:?}");
        let rows = match self.execute(OP, &what, &stmt).await {
            Ok(Some(rows)) => rows,
            // No rows at all: nothing held.
            Ok(None) => return Ok(BTreeSet::new()),
            Err(e) if e.is(ErrorKind::NotFound) => return Ok(BTreeSet::new()),
            Err(e) => return Err(e),
        };
        held_permissions(&named_rows(OP, &rows)?, role, keyspace).map_err(|m| unexpected(OP, m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backends::Diagnose;

    fn row(cols: &[(&str, CqlValue)]) -> BTreeMap<String, CqlValue> {
        cols.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    }

    fn t(s: &str) -> CqlValue {
        CqlValue::Text(s.to_string())
    }

    #[test]
    fn replication_is_read_without_the_class_and_its_package() {
        let m = HashMap::from([
            ("class".to_string(), "org.apache.cassandra.locator.NetworkTopologyStrategy".to_string()),
            ("datacenter1".to_string(), "3".to_string()),
            ("dc2".to_string(), "1".to_string()),
        ]);
        let (strategy, factors) = parse_replication("k", &m).unwrap();
        assert_eq!(strategy, "NetworkTopologyStrategy");
        assert_eq!(factors, BTreeMap::from([("datacenter1".to_string(), 3), ("dc2".to_string(), 1)]));

        let simple = HashMap::from([
            ("class".to_string(), "SimpleStrategy".to_string()),
            ("replication_factor".to_string(), "2".to_string()),
        ]);
        let (strategy, factors) = parse_replication("k", &simple).unwrap();
        assert_eq!(strategy, "SimpleStrategy");
        assert_eq!(factors, BTreeMap::from([("replication_factor".to_string(), 2)]));

        assert!(parse_replication("k", &HashMap::new()).unwrap_err().contains("no class"));
        let transient = HashMap::from([
            ("class".to_string(), "NetworkTopologyStrategy".to_string()),
            ("dc1".to_string(), "3/1".to_string()),
        ]);
        assert!(parse_replication("k", &transient).unwrap_err().contains("\"3/1\""));
    }

    #[test]
    fn permissions_are_the_roles_own_on_the_keyspace_itself() {
        // What Cassandra 5.0.9 answered for a role holding DROP itself, MODIFY through a role
        // granted to it; <all keyspaces> and other keyspaces must not count either.
        let rows = vec![
            row(&[
                ("role", t("parent")),
                ("username", t("parent")),
                ("resource", t("<keyspace ks>")),
                ("permission", t("MODIFY")),
            ]),
            row(&[("role", t("r")), ("username", t("r")), ("resource", t("<keyspace ks>")), ("permission", t("DROP"))]),
            row(&[("role", t("r")), ("resource", t("<keyspace ks>")), ("permission", t("SELECT"))]),
            row(&[("role", t("r")), ("resource", t("<all keyspaces>")), ("permission", t("ALTER"))]),
            row(&[("role", t("r")), ("resource", t("<keyspace ks2>")), ("permission", t("CREATE"))]),
            row(&[("role", t("r")), ("resource", t("<table ks.t>")), ("permission", t("AUTHORIZE"))]),
        ];
        let held = held_permissions(&rows, "r", "ks").unwrap();
        assert_eq!(held, BTreeSet::from(["DROP".to_string(), "SELECT".to_string()]));
        assert!(held_permissions(&[], "r", "ks").unwrap().is_empty());
        let broken = vec![row(&[("role", t("r")), ("resource", t("<keyspace ks>"))])];
        assert!(held_permissions(&broken, "r", "ks").is_err());
    }

    #[test]
    fn a_role_is_found_by_its_own_row() {
        let rows = vec![
            row(&[("role", t("parent")), ("login", CqlValue::Boolean(true))]),
            row(&[("role", t("r")), ("super", CqlValue::Boolean(false)), ("login", CqlValue::Boolean(false))]),
        ];
        assert_eq!(role_login(&rows, "r").unwrap(), Some(false));
        assert_eq!(role_login(&rows, "parent").unwrap(), Some(true));
        assert_eq!(role_login(&rows, "other").unwrap(), None);
        assert!(role_login(&[row(&[("role", t("r"))])], "r").is_err(), "no login column");
    }

    #[test]
    fn server_errors_are_classified() {
        let k = |db: DbError, m: &str| db_kind(&db, m);
        assert_eq!(
            k(DbError::AlreadyExists { keyspace: "k".into(), table: String::new() }, "Keyspace 'k' already exists"),
            ErrorKind::AlreadyExists
        );
        assert_eq!(k(DbError::Invalid, "sales already exists"), ErrorKind::AlreadyExists);
        assert_eq!(k(DbError::Invalid, "Role sales doesn't exist"), ErrorKind::NotFound);
        assert_eq!(k(DbError::Invalid, "<keyspace x> doesn't exist"), ErrorKind::NotFound);
        assert_eq!(k(DbError::Invalid, "Unknown property"), ErrorKind::Other);
        assert_eq!(k(DbError::Unauthorized, "no"), ErrorKind::Auth);
        assert_eq!(k(DbError::AuthenticationError, "bad"), ErrorKind::Auth);
        assert_eq!(
            k(DbError::Overloaded, "Password for role r can only be changed every 5000ms."),
            ErrorKind::Transient
        );
        assert_eq!(k(DbError::IsBootstrapping, ""), ErrorKind::Transient);
        assert_eq!(k(DbError::SyntaxError, ""), ErrorKind::Other);
        assert_eq!(k(DbError::ConfigError, "Unrecognized strategy option {dc9}"), ErrorKind::Other);
        assert_eq!(db_code(&DbError::Unauthorized), "Unauthorized");
        assert_eq!(db_code(&DbError::Other(0x1234)), "0x1234");
    }

    #[test]
    fn driver_errors_are_classified() {
        let timeout = ExecutionError::RequestTimeout(Duration::from_secs(3));
        assert_eq!(Cause::of_execution(&timeout).kind, ErrorKind::Transient);
        let refused = ConnectionError::IoError(Arc::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)));
        assert_eq!(Cause::of_connection(&refused).kind, ErrorKind::Transient);
        let pool = ConnectionPoolError::Broken { last_connection_error: refused };
        assert_eq!(Cause::of_new_session(&NewSessionError::MetadataError(pool.into())).kind, ErrorKind::Transient);
        let tls =
            ConnectionError::IoError(Arc::new(std::io::Error::new(std::io::ErrorKind::InvalidData, "unknown CA")));
        assert_eq!(Cause::of_connection(&tls).kind, ErrorKind::Other, "a bad certificate is not retried");
        let denied = ExecutionError::LastAttemptError(RequestAttemptError::DbError(
            DbError::Unauthorized,
            "User r has no SELECT permission".into(),
        ));
        let cause = Cause::of_execution(&denied);
        assert_eq!((cause.kind, cause.code.as_deref()), (ErrorKind::Auth, Some("Unauthorized")));
        assert_eq!(Cause::of_execution(&ExecutionError::EmptyPlan).kind, ErrorKind::Transient);
    }

    #[test]
    fn a_failed_statement_never_shows_its_password() {
        let pw = "hunter2'; --";
        let stmt = cql::alter_role("sales", Some(pw)).unwrap();
        let db = |db: DbError, m: String| ExecutionError::LastAttemptError(RequestAttemptError::DbError(db, m));
        let echoes = [
            db(DbError::Invalid, format!("bad value {pw} in {}", stmt.cql())),
            db(DbError::SyntaxError, "line 1:60 no viable alternative at input '; --' (...= 'hunter2''[;]...)".into()),
            db(DbError::Overloaded, format!("busy with {}", stmt.cql())),
            // The driver's own errors may quote a statement too.
            ExecutionError::LastAttemptError(RequestAttemptError::RepreparedIdChanged {
                statement: stmt.cql().to_string(),
                expected_id: vec![1],
                reprepared_id: vec![2],
            }),
        ];
        for e in &echoes {
            let err = statement_error("ALTER ROLE", "role \"sales\"", &stmt, e, "127.0.0.1:9042");
            for printed in [err.to_string(), format!("{err:?}"), err.diagnostic("role \"sales\"").detail] {
                assert!(!printed.contains("hunter2"), "{printed}");
                assert!(printed.contains("sales"), "the error still names the role: {printed}");
            }
        }
        // Without a password the server's message is kept whole.
        let plain = cql::drop_role("sales").unwrap();
        let e = db(DbError::SyntaxError, "line 1:5 mismatched input".into());
        assert!(statement_error("DROP ROLE", "role", &plain, &e, "").message.contains("line 1:5 mismatched input"));
    }

    #[test]
    fn tls_trusts_the_given_ca_and_refuses_garbage() {
        let ca = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap().cert.pem();
        assert!(tls_config(&ca).is_ok());
        assert!(tls_config("").unwrap_err().contains("no certificate"));
        assert!(tls_config("-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n").is_err());
    }
}
