//! What exists in the backends under a test's name prefix, read with the real clients, and
//! what a Terraform state says should exist there: the two side by side name every orphan
//! (in the backends only) and every lost object (in state only). The fault tests, the
//! validation tests and the soak test all look through this one scanner.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value as Json;

use super::Backends;

/// Objects in the backends, by name.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    /// Buckets `<prefix>-...`, the catalog bucket left out.
    pub buckets: BTreeSet<String>,
    /// Roles `<prefix>-...` under the mesh's role path.
    pub roles: BTreeSet<String>,
    /// Inline policies of those roles, `<role>/<policy>`.
    pub policies: BTreeSet<String>,
    /// Keys in the catalog bucket `<prefix>-catalog`.
    pub catalog_keys: BTreeSet<String>,
    /// Topics `<prefix>-...` (a topic starts with its domain's name; the tests' domains start
    /// with their prefix).
    pub topics: BTreeSet<String>,
    /// HDFS directories of the prefix's domains and products, under the root.
    pub hdfs_dirs: BTreeSet<String>,
    /// Named HDFS ACL entries for the prefix's users on those directories, `<path> <entry>`.
    pub hdfs_entries: BTreeSet<String>,
    /// Cassandra roles `<prefix>-...`.
    pub cassandra_roles: BTreeSet<String>,
    /// Cassandra keyspaces `<prefix with _>_...`.
    pub keyspaces: BTreeSet<String>,
    /// Cassandra permissions the prefix's roles hold on keyspaces, `<role> data/<keyspace>`: a
    /// product's owner on its keyspace, a grant's consumer on the product's.
    pub cassandra_permissions: BTreeSet<String>,
}

impl Inventory {
    /// What exists under `prefix`, with Kafka read from the broker at `broker` (`host:port`).
    ///
    /// The catalog bucket is shared infrastructure (made on first use, kept after destroy):
    /// its keys count, not the bucket. Nothing here creates anything: S3 and IAM are read with
    /// the SDK from the environment (`AWS_ENDPOINT_URL`, so never through a test's fault
    /// proxy), and the catalog's keys with the plain storage client (the provider's `Catalog`
    /// would create its bucket).
    pub fn scan(b: &Backends, prefix: &str, broker: &str) -> Self {
        let mine = format!("{prefix}-");
        let catalog_bucket = format!("{prefix}-catalog");
        let sdk = b.block_on(aws_config::defaults(aws_config::BehaviorVersion::latest()).load());
        let s3 = aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&sdk).force_path_style(true).build());
        let all_buckets: BTreeSet<String> = b
            .block_on(s3.list_buckets().send())
            .expect("ListBuckets")
            .buckets()
            .iter()
            .filter_map(|b| b.name())
            .filter(|n| n.starts_with(&mine))
            .map(String::from)
            .collect();
        let catalog_keys = if all_buckets.contains(&catalog_bucket) {
            let storage = b.storage();
            b.block_on(storage.list_keys(&catalog_bucket, "")).expect("catalog keys").into_iter().collect()
        } else {
            BTreeSet::new()
        };
        let buckets = all_buckets.into_iter().filter(|b| *b != catalog_bucket).collect();
        let iam_client = aws_sdk_iam::Client::new(&sdk);
        let roles: BTreeSet<String> = b
            .block_on(
                iam_client
                    .list_roles()
                    .path_prefix(terraform_provider_datamesh::naming::ROLE_PATH)
                    .into_paginator()
                    .items()
                    .send()
                    .collect::<Result<Vec<_>, _>>(),
            )
            .expect("ListRoles")
            .iter()
            .map(|r| r.role_name().to_string())
            .filter(|n| n.starts_with(&mine))
            .collect();
        let iam = b.iam();
        let mut policies = BTreeSet::new();
        for role in &roles {
            for p in b.block_on(iam.list_role_policies(role)).expect("ListRolePolicies") {
                policies.insert(format!("{role}/{p}"));
            }
        }
        let topics = list_topics(broker).into_iter().filter(|t| t.starts_with(&mine)).collect();
        let (hdfs_dirs, hdfs_entries) = scan_hdfs(b, &mine);
        let (cassandra_roles, keyspaces, cassandra_permissions) = scan_cassandra(b, &mine);
        Inventory {
            buckets,
            roles,
            policies,
            catalog_keys,
            topics,
            hdfs_dirs,
            hdfs_entries,
            cassandra_roles,
            keyspaces,
            cassandra_permissions,
        }
    }

    /// What a state says should exist: the objects each resource in `resources` (the
    /// `values.root_module.resources` of `terraform show -json`) owns. Resources of other
    /// providers (`terraform_data`, ...) own nothing there.
    pub fn from_state(prefix: &str, resources: &[Json]) -> Self {
        let mut want = Inventory::default();
        for r in resources {
            let v = &r["values"];
            let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
            match r["type"].as_str().unwrap_or_default() {
                "datamesh_domain" => {
                    want.roles.insert(s("role_name"));
                    want.catalog_keys.insert(format!("domains/{}.json", s("name")));
                    want.hdfs_dirs.extend(v["hdfs_home"].as_str().map(String::from));
                    want.cassandra_roles.extend(v["cassandra_role"].as_str().map(String::from));
                }
                "datamesh_access_grant" => {
                    let consumer = s("consumer_domain");
                    want.policies.insert(format!("{prefix}-domain-{consumer}/{}", s("policy_name")));
                    let product = s("data_product");
                    want.catalog_keys.insert(format!("grants/{consumer}/{product}.json"));
                    let entries: Vec<String> = v["hdfs_acl"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|e| e.as_str().map(String::from)).collect())
                        .unwrap_or_default();
                    // A grant with entries also holds the consumer's pass-through on the
                    // owner's home, the parent of the product directory.
                    if let Some((dir, _)) = entries.first().and_then(|e| e.split_once(' ')) {
                        if let Some((home, _)) = dir.rsplit_once('/') {
                            want.hdfs_entries.insert(format!("{home} user:{}:--x", s("consumer_domain")));
                        }
                    }
                    want.hdfs_entries.extend(entries);
                    // `SELECT ON KEYSPACE <keyspace>`: one row of the consumer's on the keyspace.
                    for p in v["cassandra_permissions"].as_array().into_iter().flatten().filter_map(Json::as_str) {
                        if let Some((_, keyspace)) = p.split_once(" ON KEYSPACE ") {
                            want.cassandra_permissions.insert(format!("{consumer} data/{keyspace}"));
                        }
                    }
                }
                "datamesh_data_product" => {
                    want.buckets.extend(v["bucket"].as_str().map(String::from));
                    want.hdfs_dirs.extend(v["hdfs_path"].as_str().map(String::from));
                    want.keyspaces.extend(v["cassandra_keyspace"].as_str().map(String::from));
                    // The owning domain's role holds ALL PERMISSIONS on the keyspace.
                    if let Some(keyspace) = v["cassandra_keyspace"].as_str() {
                        want.cassandra_permissions.insert(format!("{} data/{keyspace}", s("domain")));
                    }
                    let role = format!("{prefix}-domain-{}", s("domain"));
                    want.policies.insert(format!("{role}/datamesh-owner-{}", s("name")));
                    want.catalog_keys.insert(s("manifest_key"));
                }
                "datamesh_stream" => {
                    want.topics.insert(s("topic"));
                    let (dp, name) = (s("data_product"), s("name"));
                    want.catalog_keys.insert(format!("streams/{dp}/{name}.json"));
                }
                other if other.starts_with("datamesh_") => panic!("the inventory does not know what {other} owns"),
                _ => {}
            }
        }
        want
    }

    /// How many objects in all.
    pub fn count(&self) -> usize {
        self.kinds(self).iter().map(|(_, have, _)| have.len()).sum()
    }

    /// Orphans (in the backends only) and lost objects (in state only), one line each.
    pub fn diff(&self, state: &Inventory) -> String {
        let mut out = String::new();
        for (kind, have, want) in self.kinds(state) {
            for orphan in have.difference(want) {
                out.push_str(&format!("  orphan {kind}: {orphan}\n"));
            }
            for lost in want.difference(have) {
                out.push_str(&format!("  lost {kind}: {lost}\n"));
            }
        }
        out
    }

    /// The objects in the backends that `state` does not know about.
    pub fn orphans(&self, state: &Inventory) -> Vec<String> {
        self.kinds(state)
            .into_iter()
            .flat_map(|(kind, have, want)| have.difference(want).map(move |o| format!("{kind} {o}")))
            .collect()
    }

    fn kinds<'a>(&'a self, state: &'a Inventory) -> [(&'static str, &'a BTreeSet<String>, &'a BTreeSet<String>); 10] {
        [
            ("bucket", &self.buckets, &state.buckets),
            ("role", &self.roles, &state.roles),
            ("policy", &self.policies, &state.policies),
            ("catalog key", &self.catalog_keys, &state.catalog_keys),
            ("topic", &self.topics, &state.topics),
            ("HDFS directory", &self.hdfs_dirs, &state.hdfs_dirs),
            ("HDFS ACL entry", &self.hdfs_entries, &state.hdfs_entries),
            ("Cassandra role", &self.cassandra_roles, &state.cassandra_roles),
            ("keyspace", &self.keyspaces, &state.keyspaces),
            ("Cassandra permission", &self.cassandra_permissions, &state.cassandra_permissions),
        ]
    }
}

/// The prefix's domain and product directories under the HDFS root, and the named ACL entries
/// for the prefix's users on them (none when the stack has no HDFS: the provider made none).
fn scan_hdfs(b: &Backends, mine: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut dirs, mut entries) = (BTreeSet::new(), BTreeSet::new());
    if !b.config().hdfs.configured() {
        return (dirs, entries);
    }
    let hdfs = b.hdfs();
    let settings = &b.config().hdfs;
    let root = settings.root.clone();
    let namenode = super::stores::HdfsUser::at(settings.webhdfs_url.as_deref().unwrap_or_default(), &settings.user);
    let children = namenode.list(&root).unwrap_or_default();
    for child in children.into_iter().filter(|c| c.starts_with(mine)) {
        let home = format!("{root}/{child}");
        let tree = b.block_on(hdfs.tree(&home)).expect("HDFS tree");
        for (path, is_dir) in tree {
            // The domain's home and its products' directories; what owners wrote is theirs.
            let depth = path[root.len()..].matches('/').count();
            if is_dir && depth <= 2 {
                dirs.insert(path.clone());
                for e in b.block_on(hdfs.acl_entries(&path)).expect("GETACLSTATUS").unwrap_or_default() {
                    let named = e.trim_start_matches("default:");
                    if named.starts_with(&format!("user:{mine}")) {
                        entries.insert(format!("{path} {e}"));
                    }
                }
            }
        }
    }
    (dirs, entries)
}

/// The prefix's Cassandra roles, keyspaces and the permissions its roles hold (none when the
/// stack has no Cassandra), read as the provider's admin role from the first contact point.
fn scan_cassandra(b: &Backends, mine: &str) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let settings = &b.config().cassandra;
    if !settings.configured() {
        return (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    }
    let user = settings.username.clone().expect("cassandra.username (DATAMESH_CASSANDRA_USERNAME)");
    let password = settings.password.clone().expect("cassandra.password (DATAMESH_CASSANDRA_PASSWORD)").0;
    let session = b
        .block_on(super::stores::cql_login_to(&settings.contact_points[0], &user, &password))
        .expect("CQL login as the admin");
    let column = |cql: &str| -> BTreeSet<String> {
        let rows = b.block_on(session.query_unpaged(cql, &[])).expect(cql).into_rows_result().expect("rows");
        rows.rows::<(String,)>().expect("text column").filter_map(Result::ok).map(|(n,)| n).collect()
    };
    let keyspace_prefix = mine.replace('-', "_");
    let roles = column("SELECT role FROM system_auth.roles").into_iter().filter(|r| r.starts_with(mine)).collect();
    let keyspaces = column("SELECT keyspace_name FROM system_schema.keyspaces")
        .into_iter()
        .filter(|k| k.starts_with(&keyspace_prefix))
        .collect();
    let cql = "SELECT role, resource FROM system_auth.role_permissions";
    let rows = b.block_on(session.query_unpaged(cql, &[])).expect(cql).into_rows_result().expect("rows");
    let permissions = rows
        .rows::<(String, String)>()
        .expect("text columns")
        .filter_map(Result::ok)
        // Keyspaces' permissions (`data/<keyspace>`); what an owner's role holds on tables it
        // made itself is the owner's.
        .filter(|(role, resource)| role.starts_with(mine) && resource.matches('/').count() == 1)
        .map(|(role, resource)| format!("{role} {resource}"))
        .collect();
    (roles, keyspaces, permissions)
}

impl Backends {
    /// Backends configured like [`Backends::for_prefix`], then changed by `change`: HDFS or
    /// Cassandra of a test's own servers (a [`super::PrivateStack`]), or none, so that the scan
    /// reads the servers the test's provider writes to.
    pub fn for_prefix_with(
        prefix: &str,
        change: impl FnOnce(&mut terraform_provider_datamesh::provider::config::ProviderConfig),
    ) -> Self {
        let Self { rt, data } = Self::for_prefix(prefix);
        let mut config = data.config;
        change(&mut config);
        Self { rt, data: terraform_provider_datamesh::provider::ProviderData::new(config) }
    }
}

/// The stack's broker: the first of `DATAMESH_KAFKA_BOOTSTRAP_SERVERS`.
pub fn stack_broker() -> String {
    let servers =
        std::env::var("DATAMESH_KAFKA_BOOTSTRAP_SERVERS").expect("DATAMESH_KAFKA_BOOTSTRAP_SERVERS from stack.env");
    servers.split(',').next().unwrap_or_default().to_string()
}

/// Every topic on the broker at `addr`.
pub fn list_topics(addr: &str) -> BTreeSet<String> {
    use rdkafka::admin::AdminClient;
    use rdkafka::client::DefaultClientContext;
    let admin: AdminClient<DefaultClientContext> =
        super::kafka_admin_client().set("bootstrap.servers", addr).create().expect("Kafka admin client");
    let metadata = admin.inner().fetch_metadata(None, Duration::from_secs(15)).expect("Kafka metadata");
    metadata.topics().iter().map(|t| t.name().to_string()).collect()
}

/// The resource instances in a working directory's state (`terraform show -json`).
pub fn state_resources(tf: &super::Tf) -> Vec<Json> {
    let out = tf.run_ok(&["show", "-json", "-no-color"]);
    let state: Json =
        serde_json::from_str(out.lines().find(|l| l.starts_with('{')).unwrap_or("{}")).expect("state JSON");
    state["values"]["root_module"]["resources"].as_array().cloned().unwrap_or_default()
}

/// The objects under the directory's prefix that its state does not know about.
pub fn orphans_of(tf: &super::Tf, b: &Backends) -> Vec<String> {
    let have = Inventory::scan(b, &tf.prefix, &stack_broker());
    have.orphans(&Inventory::from_state(&tf.prefix, &state_resources(tf)))
}

/// The Kafka ACL bindings on the broker at `broker` (`host:port`) that are `prefix`'s: whose
/// principal is one of its users (`User:<prefix>-...`) or whose resource name starts with
/// `<prefix>-` (its domains' topics and groups), as `kafka_acls` shows them. Read with one
/// DescribeAcls that matches every binding, so a binding nothing in state owns shows too.
pub fn scan_acls(prefix: &str, broker: &str) -> BTreeSet<String> {
    let b = Backends::for_prefix_with_kafka(prefix, |k| k.bootstrap_servers = vec![broker.to_string()]);
    let all = b.block_on(b.streaming().list_acls()).expect("DescribeAcls (every binding)");
    let mine = format!("{prefix}-");
    all.iter()
        .filter(|a| a.name.starts_with(&mine) || a.principal.split_once(':').is_some_and(|(_, n)| n.starts_with(&mine)))
        .map(ToString::to_string)
        .collect()
}

/// The Kafka ACL bindings a state's resources own, with `kafka.manage_acls` on: each domain's
/// own bindings (on its topics and groups, for its principal) and each grant's `kafka_acls`.
pub fn acls_from_state(resources: &[Json]) -> BTreeSet<String> {
    use terraform_provider_datamesh::{acl, naming};
    let mut want = BTreeSet::new();
    for r in resources {
        let v = &r["values"];
        match r["type"].as_str().unwrap_or_default() {
            "datamesh_domain" => {
                let name = v["name"].as_str().unwrap_or_default();
                let principal =
                    v["kafka_principal"].as_str().map(String::from).unwrap_or_else(|| naming::default_principal(name));
                want.extend(acl::domain_bindings(name, &principal).iter().map(ToString::to_string));
            }
            "datamesh_access_grant" => {
                let shown = v["kafka_acls"].as_array().into_iter().flatten();
                want.extend(shown.filter_map(|a| a.as_str().map(String::from)));
            }
            _ => {}
        }
    }
    want
}
