//! The domains' own clients of HDFS and Cassandra, for proofs by the backend: WebHDFS as a
//! named user (simple authentication, `user.name=`), and CQL logged in as a domain's role.
//! Every call answers what the server said, so a test can assert on a refusal.

use std::time::Duration;

use reqwest::blocking::Client;
use reqwest::{redirect, StatusCode};

/// WebHDFS as user `user`.
pub struct HdfsUser {
    base: String,
    user: String,
    client: Client,
}

impl HdfsUser {
    /// The stack's NameNode, as `user`.
    pub fn new(user: &str) -> Self {
        let base = std::env::var("DATAMESH_HDFS_WEBHDFS_URL").expect("DATAMESH_HDFS_WEBHDFS_URL (stack.env)");
        Self::at(&base, user)
    }

    /// The NameNode whose WebHDFS is at `base` (`http://host:port`), as `user`.
    pub fn at(base: &str, user: &str) -> Self {
        let base = base.trim_end_matches('/').to_string();
        let client = Client::builder()
            .redirect(redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        Self { base, user: user.to_string(), client }
    }

    fn url(&self, path: &str, op: &str) -> String {
        format!("{}/webhdfs/v1{path}?op={op}&user.name={}", self.base, self.user)
    }

    /// The RemoteException name (or status) of a refusal.
    fn refusal(status: StatusCode, body: &str) -> String {
        let v: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        match v["RemoteException"]["exception"].as_str() {
            Some(e) => format!("{e}: {}", v["RemoteException"]["message"].as_str().unwrap_or_default()),
            None => format!("HTTP {status}: {body}"),
        }
    }

    /// Writes a file (CREATE, overwriting); Err holds the server's exception.
    pub fn put(&self, path: &str, data: &str) -> Result<(), String> {
        let first = self.client.put(self.url(path, "CREATE") + "&overwrite=true").send().map_err(|e| e.to_string())?;
        if first.status() != StatusCode::TEMPORARY_REDIRECT {
            let status = first.status();
            return Err(Self::refusal(status, &first.text().unwrap_or_default()));
        }
        let location = first.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
        let second = self.client.put(location).body(data.to_string()).send().map_err(|e| e.to_string())?;
        match second.status() {
            StatusCode::CREATED | StatusCode::OK => Ok(()),
            status => Err(Self::refusal(status, &second.text().unwrap_or_default())),
        }
    }

    /// Reads a file (OPEN); Err holds the server's exception.
    pub fn get(&self, path: &str) -> Result<String, String> {
        let first = self.client.get(self.url(path, "OPEN")).send().map_err(|e| e.to_string())?;
        if first.status() != StatusCode::TEMPORARY_REDIRECT {
            let status = first.status();
            return Err(Self::refusal(status, &first.text().unwrap_or_default()));
        }
        let location = first.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
        let second = self.client.get(location).send().map_err(|e| e.to_string())?;
        let status = second.status();
        let body = second.text().unwrap_or_default();
        if status == StatusCode::OK {
            Ok(body)
        } else {
            Err(Self::refusal(status, &body))
        }
    }

    /// Lists a directory (LISTSTATUS); Err holds the server's exception.
    pub fn list(&self, path: &str) -> Result<Vec<String>, String> {
        let resp = self.client.get(self.url(path, "LISTSTATUS")).send().map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = resp.text().unwrap_or_default();
        if status != StatusCode::OK {
            return Err(Self::refusal(status, &body));
        }
        let v: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        Ok(v["FileStatuses"]["FileStatus"]
            .as_array()
            .map(|a| a.iter().filter_map(|f| f["pathSuffix"].as_str().map(str::to_string)).collect())
            .unwrap_or_default())
    }
}

/// A CQL session logged in as `user` (a domain's role with its `password_wo`, or the admin).
pub async fn cql_login(user: &str, password: &str) -> Result<scylla::client::session::Session, String> {
    let points =
        std::env::var("DATAMESH_CASSANDRA_CONTACT_POINTS").expect("DATAMESH_CASSANDRA_CONTACT_POINTS (stack.env)");
    cql_login_to(points.split(',').next().unwrap_or_default().trim(), user, password).await
}

/// [`cql_login`] to the node at `contact_point` (`host:port`).
pub async fn cql_login_to(
    contact_point: &str,
    user: &str,
    password: &str,
) -> Result<scylla::client::session::Session, String> {
    let first = contact_point.to_string();
    scylla::client::session_builder::SessionBuilder::new()
        .known_node(first)
        .user(user, password)
        .connection_timeout(Duration::from_secs(10))
        .build()
        .await
        .map_err(|e| format!("{e}"))
}

/// Runs one statement; Err holds the server's refusal.
pub async fn cql(session: &scylla::client::session::Session, statement: &str) -> Result<usize, String> {
    let result = session.query_unpaged(statement, &[]).await.map_err(|e| format!("{e}"))?;
    Ok(result.into_rows_result().map(|r| r.rows_num()).unwrap_or(0))
}

/// The owner domain's (`datamesh_domain.own`) product `name` with one port block (`block`
/// holding `port`), and, with `grant`, the consumer's (`datamesh_domain.con`) grant on it at
/// that access level: the shape the HDFS and Cassandra port tests share.
pub fn product_with_port(name: &str, block: &str, port: &str, product_extra: &str, grant: Option<&str>) -> String {
    let mut out = format!(
        r#"resource "datamesh_data_product" "orders" {{
  domain         = datamesh_domain.own.name
  name           = "{name}"
  classification = "internal"
  {product_extra}
  {block} {{
    {port}
  }}
}}
"#
    );
    if let Some(access) = grant {
        out.push_str(&format!(
            r#"
resource "datamesh_access_grant" "g" {{
  consumer_domain = datamesh_domain.con.name
  data_product    = datamesh_data_product.orders.id
  access          = "{access}"
  purpose         = "reporting"
}}
"#
        ));
    }
    out
}

/// Domains `<p>-<name>` (resource `datamesh_domain.<name>`), each logging in with its
/// `password_wo` from the ephemeral variable `pw_<name>` (`TF_VAR_pw_<name>`), version 1.
pub fn domains_with_passwords(p: &str, names: &[&str]) -> String {
    let mut out = String::new();
    for d in names {
        out.push_str(&format!(
            r#"variable "pw_{d}" {{
  type      = string
  sensitive = true
  ephemeral = true
}}

resource "datamesh_domain" "{d}" {{
  name                = "{p}-{d}"
  owner               = "{d}@example.com"
  password_wo         = var.pw_{d}
  password_wo_version = 1
}}

"#
        ));
    }
    out
}
