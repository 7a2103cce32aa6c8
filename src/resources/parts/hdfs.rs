//! HDFS: a domain's home directory `<root>/<domain>`, a product's directory below it (owner,
//! group, mode `0750`, quotas), and a grant's ACL entries on that directory and everything
//! under it.

use crate::backends::Diagnose;
use serde::{Deserialize, Serialize};

use crate::backends::{BackendError, ErrorKind, Hdfs};
use crate::hdfs_acl;
use crate::provider::settings::hdfs::HdfsSettings;
use tfplugin::framework::{AttrPath, Diagnostic};

/// The mode of every domain and product directory.
pub(crate) const MODE: &str = "750";
/// The mode of the root, which every domain passes through.
const ROOT_MODE: &str = "755";

/// The product's `hdfs {}` block.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct HdfsPort {
    /// Raw bytes (replication included); None: no quota.
    pub(crate) space_quota_bytes: Option<i64>,
    /// Names (files and directories); None: no quota.
    pub(crate) namespace_quota: Option<i64>,
}

/// A directory's owner, group and mode as `hdfs_permission` shows them: `0750 sales:sales`.
pub(crate) fn shown_permission(mode: &str, owner: &str, group: &str) -> String {
    format!("0{} {owner}:{group}", mode.trim_start_matches('0'))
}

/// What a domain's (and its products') directories should show.
pub(crate) fn wanted_permission(domain: &str) -> String {
    shown_permission(MODE, domain, domain)
}

fn diag(e: BackendError, path: &str) -> Diagnostic {
    e.diagnostic(&format!("HDFS directory {path:?}"))
}

/// Makes `path` a directory owned by `domain` with mode 0750 (the parents as needed).
async fn owned_dir(hdfs: &dyn Hdfs, path: &str, domain: &str) -> Result<(), Diagnostic> {
    hdfs.mkdirs(path, MODE).await.map_err(|e| diag(e, path))?;
    hdfs.set_owner(path, domain, domain).await.map_err(|e| diag(e, path))?;
    hdfs.set_permission(path, MODE).await.map_err(|e| diag(e, path))
}

/// Makes the domain's home directory (and the root, passable by all, when missing).
pub(crate) async fn ensure_home(hdfs: &dyn Hdfs, settings: &HdfsSettings, domain: &str) -> Result<(), Diagnostic> {
    let root = settings.root.as_str();
    if hdfs.status(root).await.map_err(|e| diag(e, root))?.is_none() {
        hdfs.mkdirs(root, ROOT_MODE).await.map_err(|e| diag(e, root))?;
        hdfs.set_permission(root, ROOT_MODE).await.map_err(|e| diag(e, root))?;
    }
    owned_dir(hdfs, &settings.domain_dir(domain), domain).await
}

/// A directory's `hdfs_permission`, None when it does not exist.
pub(crate) async fn permission(hdfs: &dyn Hdfs, path: &str) -> Result<Option<String>, Diagnostic> {
    let status = hdfs.status(path).await.map_err(|e| diag(e, path))?;
    Ok(status.map(|s| shown_permission(&s.permission, &s.owner, &s.group)))
}

/// Puts a directory's owner, group and mode back.
pub(crate) async fn restore_permission(hdfs: &dyn Hdfs, path: &str, domain: &str) -> Result<(), Diagnostic> {
    hdfs.set_owner(path, domain, domain).await.map_err(|e| diag(e, path))?;
    hdfs.set_permission(path, MODE).await.map_err(|e| diag(e, path))
}

/// Deletes the domain's home directory; refused while products' directories remain.
pub(crate) async fn delete_home(hdfs: &dyn Hdfs, path: &str) -> Result<(), Diagnostic> {
    match hdfs.delete(path, false).await {
        Ok(()) => Ok(()),
        Err(e) if e.is(ErrorKind::NotEmpty) => Err(Diagnostic::attr_error(
            AttrPath::attr("name"),
            "Domain directory still in use",
            format!("The HDFS directory {path:?} of the domain still holds directories or files. Destroy the domain's data products with HDFS ports first (and empty what was written there by hand); nothing was deleted."),
        )),
        Err(e) => Err(diag(e, path)),
    }
}

/// How far creating a product directory got before it failed.
pub(crate) struct Partial {
    /// The directory exists (state must record the port).
    pub(crate) made: bool,
    /// What failed.
    pub(crate) error: Diagnostic,
}

/// Creates a product's directory under its domain's home, with its quotas.
pub(crate) async fn create_port(
    hdfs: &dyn Hdfs,
    settings: &HdfsSettings,
    domain: &str,
    product: &str,
    port: &HdfsPort,
) -> Result<(), Partial> {
    let path = settings.product_dir(domain, product);
    if hdfs.status(&path).await.map_err(|e| Partial { made: false, error: diag(e, &path) })?.is_some() {
        let e = BackendError::new(ErrorKind::AlreadyExists, "HDFS", "MKDIRS", format!("{path} exists"));
        return Err(Partial {
            made: false,
            error: e.attr_diagnostic(AttrPath::attr("hdfs"), &format!("HDFS directory {path:?}")),
        });
    }
    ensure_home(hdfs, settings, domain).await.map_err(|error| Partial { made: false, error })?;
    hdfs.mkdirs(&path, MODE).await.map_err(|e| Partial { made: false, error: diag(e, &path) })?;
    let rest = async {
        restore_permission(hdfs, &path, domain).await?;
        set_quota(hdfs, &path, port).await
    };
    rest.await.map_err(|error| Partial { made: true, error })
}

/// Makes the directory's quotas the port's.
pub(crate) async fn set_quota(hdfs: &dyn Hdfs, path: &str, port: &HdfsPort) -> Result<(), Diagnostic> {
    hdfs.set_quota(path, port.namespace_quota, port.space_quota_bytes)
        .await
        .map_err(|e| e.attr_diagnostic(AttrPath::attr("hdfs"), &format!("the quotas of HDFS directory {path:?}")))
}

/// The permission a directory shows, with its group bits read as what they are on a directory
/// with named ACL entries (the grants'): the ACL mask, not the owning group's bits. So a
/// `read_write` grant (mask `rwx`) is not mistaken for the mode drifting to 0770.
async fn permission_beside_acl(hdfs: &dyn Hdfs, path: &str) -> Result<Option<String>, Diagnostic> {
    let Some(status) = hdfs.status(path).await.map_err(|e| diag(e, path))? else { return Ok(None) };
    let mode = status.permission.trim_start_matches('0').to_string();
    let shown = shown_permission(&mode, &status.owner, &status.group);
    let (want_user, want_other) = (&MODE[0..1], &MODE[2..3]);
    let mask_only =
        mode.len() == 3 && &mode[0..1] == want_user && &mode[2..3] == want_other && mode[1..2] != MODE[1..2];
    if !mask_only {
        return Ok(Some(shown));
    }
    let entries = hdfs.acl_entries(path).await.map_err(|e| diag(e, path))?.unwrap_or_default();
    let named = entries.iter().any(|e| {
        let mut parts = e.split(':');
        matches!((parts.next(), parts.next()), (Some("user" | "group"), Some(name)) if !name.is_empty())
    });
    Ok(Some(if named { shown_permission(MODE, &status.owner, &status.group) } else { shown }))
}

/// The port as the NameNode has it: None when the directory is gone.
pub(crate) async fn read_port(hdfs: &dyn Hdfs, path: &str) -> Result<Option<(HdfsPort, String)>, Diagnostic> {
    let Some(shown) = permission_beside_acl(hdfs, path).await? else { return Ok(None) };
    let Some(q) = hdfs.quota(path).await.map_err(|e| diag(e, path))? else { return Ok(None) };
    Ok(Some((HdfsPort { space_quota_bytes: q.space_quota, namespace_quota: q.namespace_quota }, shown)))
}

/// Deletes a product's directory: refused while it holds anything, unless `force`.
pub(crate) async fn delete_port(hdfs: &dyn Hdfs, path: &str, force: bool) -> Result<(), Diagnostic> {
    if !force {
        check_empty(hdfs, path).await?;
    }
    hdfs.delete(path, force).await.map_err(|e| diag(e, path))
}

/// An error at `force_destroy` when the directory holds anything.
pub(crate) async fn check_empty(hdfs: &dyn Hdfs, path: &str) -> Result<(), Diagnostic> {
    match hdfs.is_empty(path).await {
        Ok(true) => Ok(()),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(()),
        Ok(false) => Err(Diagnostic::attr_error(
            AttrPath::attr("force_destroy"),
            "HDFS port still holds data",
            format!("The HDFS directory {path:?} is not empty, so nothing was deleted. Empty it first, or set force_destroy = true and apply before removing the port or the product."),
        )),
        Err(e) => Err(diag(e, path)),
    }
}

// ------------------------------------------------------------------------------- grants ----

/// The entries a grant should hold, as `hdfs_acl` shows them.
pub(crate) fn grant_shown(product_dir: &str, consumer: &str, read_write: bool) -> Vec<String> {
    hdfs_acl::grant_entries(consumer, read_write).iter().map(|e| hdfs_acl::shown(product_dir, e)).collect()
}

/// Adds the grant's entries to the product directory and everything under it, and the
/// consumer's pass-through entry on the domain's directory.
pub(crate) async fn grant(
    hdfs: &dyn Hdfs,
    domain_dir: &str,
    product_dir: &str,
    consumer: &str,
    read_write: bool,
) -> Result<Vec<String>, Diagnostic> {
    let what = |p: &str| format!("the grant's ACL entries on HDFS path {p:?}");
    hdfs.modify_acl_entries(domain_dir, &[hdfs_acl::traversal_entry(consumer)])
        .await
        .map_err(|e| e.diagnostic(&what(domain_dir)))?;
    let tree = hdfs.tree(product_dir).await.map_err(|e| e.diagnostic(&what(product_dir)))?;
    for (path, is_dir) in tree {
        let entries = if is_dir {
            hdfs_acl::grant_entries(consumer, read_write)
        } else {
            hdfs_acl::file_entries(consumer, read_write)
        };
        hdfs.modify_acl_entries(&path, &entries).await.map_err(|e| e.diagnostic(&what(&path)))?;
    }
    Ok(grant_shown(product_dir, consumer, read_write))
}

/// Of the grant's entries (either access level), those the product directory holds.
pub(crate) async fn granted(hdfs: &dyn Hdfs, product_dir: &str, consumer: &str) -> Result<Vec<String>, Diagnostic> {
    let found = hdfs
        .acl_entries(product_dir)
        .await
        .map_err(|e| e.diagnostic(&format!("the ACL of HDFS directory {product_dir:?}")))?
        .unwrap_or_default();
    let mine = |rw| hdfs_acl::grant_entries(consumer, rw);
    let mut out: Vec<String> = Vec::new();
    for e in mine(false).into_iter().chain(mine(true)) {
        if found.contains(&e) {
            out.push(hdfs_acl::shown(product_dir, &e));
        }
    }
    Ok(out)
}

/// Removes the grant's entries (either access level) from the product directory and
/// everything under it; the pass-through entry is the caller's (`remove_traversal`).
pub(crate) async fn revoke(hdfs: &dyn Hdfs, product_dir: &str, consumer: &str) -> Result<(), Diagnostic> {
    let what = |p: &str| format!("the grant's ACL entries on HDFS path {p:?}");
    let tree = match hdfs.tree(product_dir).await {
        Ok(t) => t,
        Err(e) if e.is(ErrorKind::NotFound) => Vec::new(),
        Err(e) => return Err(e.diagnostic(&what(product_dir))),
    };
    let entries = hdfs_acl::grant_entries(consumer, true);
    for (path, is_dir) in tree {
        let entries: Vec<String> = if is_dir { entries.clone() } else { hdfs_acl::file_entries(consumer, true) };
        match hdfs.remove_acl_entries(&path, &entries).await {
            Ok(()) => {}
            Err(e) if e.is(ErrorKind::NotFound) => {}
            Err(e) => return Err(e.diagnostic(&what(&path))),
        }
    }
    Ok(())
}

/// Removes the consumer's pass-through entry from the domain's directory.
pub(crate) async fn remove_traversal(hdfs: &dyn Hdfs, domain_dir: &str, consumer: &str) -> Result<(), Diagnostic> {
    match hdfs.remove_acl_entries(domain_dir, &[hdfs_acl::traversal_entry(consumer)]).await {
        Ok(()) => Ok(()),
        Err(e) if e.is(ErrorKind::NotFound) => Ok(()),
        Err(e) => Err(e.diagnostic(&format!("the pass-through ACL entry on HDFS directory {domain_dir:?}"))),
    }
}

/// Adds it back (another grant still needs it).
pub(crate) async fn add_traversal(hdfs: &dyn Hdfs, domain_dir: &str, consumer: &str) -> Result<(), Diagnostic> {
    hdfs.modify_acl_entries(domain_dir, &[hdfs_acl::traversal_entry(consumer)])
        .await
        .map_err(|e| e.diagnostic(&format!("the pass-through ACL entry on HDFS directory {domain_dir:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_show_mode_owner_and_group() {
        assert_eq!(wanted_permission("sales"), "0750 sales:sales");
        assert_eq!(shown_permission("755", "hdfs", "supergroup"), "0755 hdfs:supergroup");
        assert_eq!(shown_permission("0750", "a", "b"), "0750 a:b");
    }
}
