//! Cassandra: a domain's role `<domain>` (LOGIN with its `password_wo`), a product's keyspace
//! with `ALL PERMISSIONS` for its domain's role, and a grant's `SELECT` (and `MODIFY`) on it.

use crate::backends::Diagnose;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::backends::database::Permission;
use crate::backends::{BackendError, Database, ErrorKind};
use crate::provider::config::Secret;
use tfplugin::framework::{AttrPath, Diagnostic};

/// The product's `cassandra {}` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CassandraPort {
    /// Datacenter → replication factor; None: the provider's default.
    pub(crate) replication: Option<BTreeMap<String, i64>>,
}

fn keyspace_diag(e: BackendError, keyspace: &str) -> Diagnostic {
    e.attr_diagnostic(AttrPath::attr("cassandra"), &format!("Cassandra keyspace {keyspace:?}"))
}

fn role_diag(e: BackendError, role: &str) -> Diagnostic {
    e.diagnostic(&format!("Cassandra role {role:?}"))
}

// ------------------------------------------------------------------------------ domains ----

/// Creates the domain's role: LOGIN with the password when there is one.
pub(crate) async fn create_role(db: &dyn Database, role: &str, password: Option<&Secret>) -> Result<(), Diagnostic> {
    db.create_role(role, password).await.map_err(|e| role_diag(e, role))
}

/// Sets (or, without one, takes away) the role's password.
pub(crate) async fn set_password(db: &dyn Database, role: &str, password: Option<&Secret>) -> Result<(), Diagnostic> {
    db.alter_role(role, password).await.map_err(|e| role_diag(e, role))
}

/// Whether the role exists.
pub(crate) async fn role_exists(db: &dyn Database, role: &str) -> Result<bool, Diagnostic> {
    db.role(role).await.map(|r| r.is_some()).map_err(|e| role_diag(e, role))
}

/// Drops the role (a missing one is fine).
pub(crate) async fn drop_role(db: &dyn Database, role: &str) -> Result<(), Diagnostic> {
    db.drop_role(role).await.map_err(|e| role_diag(e, role))
}

// ----------------------------------------------------------------------------- products ----

/// The replication a port asks for: its own, else the provider's.
pub(crate) fn effective_replication(port: &CassandraPort, default: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    port.replication.clone().unwrap_or_else(|| default.clone())
}

/// Creates the keyspace and gives the owning domain's role `ALL PERMISSIONS` on it. Fails
/// before making anything when the domain has no role (its domain was made before Cassandra
/// was configured and not applied since).
pub(crate) async fn create_port(
    db: &dyn Database,
    keyspace: &str,
    owner_role: &str,
    replication: &BTreeMap<String, i64>,
) -> Result<(), (bool, Diagnostic)> {
    if !role_exists(db, owner_role).await.map_err(|d| (false, d))? {
        return Err((false, Diagnostic::attr_error(
            AttrPath::attr("cassandra"),
            "Domain has no Cassandra role",
            format!("The domain has no Cassandra role {owner_role:?} to own keyspace {keyspace:?}. Apply the datamesh_domain first (it creates its role once the provider has cassandra settings); nothing was created."),
        )));
    }
    db.create_keyspace(keyspace, replication).await.map_err(|e| (false, keyspace_diag(e, keyspace)))?;
    db.grant(Permission::All, keyspace, owner_role).await.map_err(|e| (true, keyspace_diag(e, keyspace)))
}

/// The port as Cassandra has it (its replication), None when the keyspace is gone.
pub(crate) async fn read_port(db: &dyn Database, keyspace: &str) -> Result<Option<BTreeMap<String, i64>>, Diagnostic> {
    Ok(db.keyspace(keyspace).await.map_err(|e| keyspace_diag(e, keyspace))?.map(|k| k.replication))
}

/// Changes the keyspace's replication.
pub(crate) async fn alter_port(
    db: &dyn Database,
    keyspace: &str,
    replication: &BTreeMap<String, i64>,
) -> Result<(), Diagnostic> {
    db.alter_keyspace(keyspace, replication).await.map_err(|e| keyspace_diag(e, keyspace))
}

/// An error at `force_destroy` when the keyspace holds tables.
pub(crate) async fn check_empty(db: &dyn Database, keyspace: &str) -> Result<(), Diagnostic> {
    match db.keyspace(keyspace).await {
        Ok(Some(k)) if k.tables > 0 => Err(Diagnostic::attr_error(
            AttrPath::attr("force_destroy"),
            "Cassandra port still holds data",
            format!("The keyspace {keyspace:?} holds {} table(s), so nothing was deleted. Drop them first, or set force_destroy = true and apply before removing the port or the product.", k.tables),
        )),
        Ok(_) => Ok(()),
        Err(e) => Err(keyspace_diag(e, keyspace)),
    }
}

/// Drops the keyspace (Cassandra drops the permissions on it too); refused while it holds
/// tables unless `force`.
pub(crate) async fn delete_port(db: &dyn Database, keyspace: &str, force: bool) -> Result<(), Diagnostic> {
    if !force {
        check_empty(db, keyspace).await?;
    }
    db.drop_keyspace(keyspace).await.map_err(|e| keyspace_diag(e, keyspace))
}

// ------------------------------------------------------------------------------- grants ----

/// The permissions a grant holds: `SELECT`, and `MODIFY` for `read_write`.
pub(crate) fn grant_permissions(read_write: bool) -> Vec<Permission> {
    if read_write {
        vec![Permission::Select, Permission::Modify]
    } else {
        vec![Permission::Select]
    }
}

/// A permission as `cassandra_permissions` shows it: `SELECT ON KEYSPACE sales__orders`.
pub(crate) fn shown(permission: Permission, keyspace: &str) -> String {
    format!("{} ON KEYSPACE {keyspace}", permission.cql())
}

/// What a grant should hold, shown.
pub(crate) fn grant_shown(keyspace: &str, read_write: bool) -> Vec<String> {
    grant_permissions(read_write).into_iter().map(|p| shown(p, keyspace)).collect()
}

/// Grants the consumer's role what the access level gives, and revokes `MODIFY` on `read`.
/// `held`: the grant's permissions the role holds before, as state shows them. A failure comes
/// with what the role holds afterwards as far as the provider knows (see [`held_after`]), so
/// that state records a permission Cassandra granted before it went away.
pub(crate) async fn grant(
    db: &dyn Database,
    keyspace: &str,
    role: &str,
    read_write: bool,
    held: &[String],
) -> Result<Vec<String>, (Vec<String>, Diagnostic)> {
    let what = format!("the grant's permissions on Cassandra keyspace {keyspace:?}");
    let mut granted = Vec::new();
    for p in grant_permissions(read_write) {
        if let Err(e) = db.grant(p, keyspace, role).await {
            return Err((held_after(held, &granted, keyspace), e.diagnostic(&what)));
        }
        granted.push(p);
    }
    if !read_write {
        if let Err(e) = db.revoke(Permission::Modify, keyspace, role).await {
            return Err((held_after(held, &granted, keyspace), e.diagnostic(&what)));
        }
    }
    Ok(grant_shown(keyspace, read_write))
}

/// The grant's permissions a role holds after `granted` were granted on top of `held` (shown),
/// in the order `grant_shown` lists them. A revoke that failed took nothing away.
pub(crate) fn held_after(held: &[String], granted: &[Permission], keyspace: &str) -> Vec<String> {
    grant_permissions(true)
        .into_iter()
        .filter(|p| granted.contains(p) || held.contains(&shown(*p, keyspace)))
        .map(|p| shown(p, keyspace))
        .collect()
}

/// Of the grant's permissions, those the role holds on the keyspace.
pub(crate) async fn granted(db: &dyn Database, keyspace: &str, role: &str) -> Result<Vec<String>, Diagnostic> {
    let held = db
        .permissions(role, keyspace)
        .await
        .map_err(|e| e.diagnostic(&format!("the permissions of Cassandra role {role:?}")))?;
    Ok(grant_permissions(true).into_iter().filter(|p| held.contains(p.cql())).map(|p| shown(p, keyspace)).collect())
}

/// Revokes both permissions (ones not held, or a dropped keyspace or role, are fine).
pub(crate) async fn revoke(db: &dyn Database, keyspace: &str, role: &str) -> Result<(), Diagnostic> {
    for p in grant_permissions(true) {
        match db.revoke(p, keyspace, role).await {
            Ok(()) => {}
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => return Err(e.diagnostic(&format!("the grant's permissions on Cassandra keyspace {keyspace:?}"))),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_grant_selects_and_a_read_write_grant_modifies_too() {
        assert_eq!(grant_shown("sales__orders", false), vec!["SELECT ON KEYSPACE sales__orders"]);
        assert_eq!(
            grant_shown("sales__orders", true),
            vec!["SELECT ON KEYSPACE sales__orders", "MODIFY ON KEYSPACE sales__orders"]
        );
    }

    #[test]
    fn a_grant_cut_short_records_what_was_granted_before() {
        // Regression (outage test, Cassandra stopped during a grant): a read grant whose
        // REVOKE MODIFY failed after its GRANT SELECT left state saying the consumer held nothing.
        let ks = "sales__orders";
        assert_eq!(held_after(&[], &[], ks), Vec::<String>::new(), "stopped before the first GRANT");
        assert_eq!(held_after(&[], &[Permission::Select], ks), vec!["SELECT ON KEYSPACE sales__orders"]);
        // read_write to read: MODIFY held before is still held when its REVOKE failed.
        let both = grant_shown(ks, true);
        assert_eq!(held_after(&both, &[Permission::Select], ks), both);
        // Granted out of order on top of what was held: the order grant_shown lists.
        let modify = vec!["MODIFY ON KEYSPACE sales__orders".to_string()];
        assert_eq!(held_after(&modify, &[Permission::Select], ks), both);
        // Another keyspace's entries are not this one's.
        assert_eq!(held_after(&["SELECT ON KEYSPACE other".into()], &[], ks), Vec::<String>::new());
    }

    #[test]
    fn a_port_without_replication_takes_the_providers() {
        let default = BTreeMap::from([("dc1".to_string(), 3)]);
        assert_eq!(effective_replication(&CassandraPort::default(), &default), default);
        let own = BTreeMap::from([("dc1".to_string(), 1)]);
        assert_eq!(effective_replication(&CassandraPort { replication: Some(own.clone()) }, &default), own);
    }
}
