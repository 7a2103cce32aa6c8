//! The WebHDFS backend (`backends::webhdfs`) against the stack's real NameNode (Hadoop 3.5,
//! permissions and ACLs on): every `Hdfs` method, checked by what the server reports back.
//! Each test works in a directory of its own under `/`, deleted at the end whatever happened,
//! so these run in parallel against a shared stack.
//!
//! Start HDFS with `STACK_SERVICES=hdfs bash scripts/stack-up.sh DIR` and source DIR/stack.env;
//! without DATAMESH_HDFS_WEBHDFS_URL every test fails and says so.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use reqwest::{redirect, Client, StatusCode};
use terraform_provider_datamesh::backends::hdfs::QuotaUsage;
use terraform_provider_datamesh::backends::webhdfs::WebHdfs;
use terraform_provider_datamesh::backends::{ErrorKind, Hdfs};
use terraform_provider_datamesh::provider::settings::hdfs::HdfsSettings;
use tokio_util::sync::CancellationToken;

use crate::support::unique;

/// The NameNode's WebHDFS URL; a test without it fails loudly (never skips).
fn webhdfs_url() -> String {
    match std::env::var("DATAMESH_HDFS_WEBHDFS_URL") {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "DATAMESH_HDFS_WEBHDFS_URL is not set: this test needs the local stack's HDFS. Start it with \
             `STACK_SERVICES=hdfs bash scripts/stack-up.sh /tmp/hdfs-stack` and `. /tmp/hdfs-stack/stack.env` \
             (or start the whole stack with scripts/stack-up.sh)."
        ),
    }
}

/// The backend, acting as `user`.
fn hdfs_as(user: &str) -> WebHdfs {
    let settings = HdfsSettings {
        webhdfs_url: Some(webhdfs_url()),
        user: user.into(),
        timeout: Duration::from_secs(30),
        ..Default::default()
    };
    WebHdfs::new(&settings, CancellationToken::new()).unwrap()
}

/// The stack's superuser (DATAMESH_HDFS_USERNAME, `hdfs` by default).
fn superuser() -> String {
    std::env::var("DATAMESH_HDFS_USERNAME").ok().filter(|u| !u.is_empty()).unwrap_or_else(|| "hdfs".into())
}

/// Runs `body` in a fresh directory (mode 0750, the superuser's), then deletes the directory
/// whether or not the body passed, and checks it is gone.
async fn in_scratch_dir<F, Fut>(body: F)
where
    F: FnOnce(Arc<WebHdfs>, String) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let hdfs = Arc::new(hdfs_as(&superuser()));
    let dir = format!("/webhdfs-test-{}", unique('w'));
    hdfs.mkdirs(&dir, "750").await.unwrap_or_else(|e| panic!("mkdirs {dir} at {}: {e}", webhdfs_url()));
    let outcome = tokio::spawn(body(hdfs.clone(), dir.clone())).await;
    let deleted = hdfs.delete(&dir, true).await;
    if let Err(e) = outcome {
        std::panic::resume_unwind(e.into_panic());
    }
    deleted.unwrap_or_else(|e| panic!("delete {dir} recursively: {e}"));
    assert_eq!(hdfs.status(&dir).await.unwrap(), None, "{dir} is still there after a recursive delete");
}

/// Writes a file with WebHDFS's two-step CREATE as `user` (the backend has no call for data):
/// the NameNode redirects, the DataNode takes the bytes.
async fn create_file(path: &str, user: &str, data: &'static [u8]) {
    let client = Client::builder().redirect(redirect::Policy::none()).timeout(Duration::from_secs(30)).build().unwrap();
    let url = format!("{}/webhdfs/v1{path}?op=CREATE&user.name={user}", webhdfs_url());
    let first = client.put(&url).send().await.unwrap_or_else(|e| panic!("CREATE {path}: {e}"));
    assert_eq!(first.status(), StatusCode::TEMPORARY_REDIRECT, "CREATE {path} as {user}: {:?}", first.text().await);
    let location = first.headers().get("location").expect("a 307 has a Location").to_str().unwrap().to_string();
    let second =
        client.put(&location).body(data).send().await.unwrap_or_else(|e| panic!("CREATE {path} at {location}: {e}"));
    assert_eq!(second.status(), StatusCode::CREATED, "CREATE {path} at the DataNode: {:?}", second.text().await);
}

const DATA: &[u8] = b"order_id,amount\n1,9.99\n";

#[tokio::test]
async fn webhdfs_backend_directories_owner_and_permission() {
    in_scratch_dir(|hdfs, dir| async move {
        let product = format!("{dir}/sales/orders");
        hdfs.mkdirs(&product, "750").await.unwrap();
        let s = hdfs.status(&product).await.unwrap().expect("the directory mkdirs made");
        assert!(s.is_dir, "{s:?}");
        assert_eq!((s.owner.as_str(), s.permission.as_str()), (superuser().as_str(), "750"), "{s:?}");
        // Again on an existing directory: fine, and nothing changes.
        hdfs.mkdirs(&product, "700").await.unwrap();
        assert_eq!(hdfs.status(&product).await.unwrap().unwrap().permission, "750");

        hdfs.set_owner(&product, "sales", "sales").await.unwrap();
        hdfs.set_permission(&product, "1770").await.unwrap();
        let s = hdfs.status(&product).await.unwrap().unwrap();
        assert_eq!((s.owner.as_str(), s.group.as_str(), s.permission.as_str()), ("sales", "sales", "1770"), "{s:?}");
        hdfs.set_permission(&product, "750").await.unwrap();
        assert_eq!(hdfs.status(&product).await.unwrap().unwrap().permission, "750");

        // A file is not a directory, and a directory cannot be made where a file is.
        let file = format!("{dir}/sales/orders.csv");
        create_file(&file, &superuser(), DATA).await;
        let f = hdfs.status(&file).await.unwrap().unwrap();
        assert!(!f.is_dir && f.permission == "644", "{f:?}");
        let e = hdfs.mkdirs(&file, "750").await.unwrap_err();
        assert!(e.is(ErrorKind::AlreadyExists), "{e}");
        assert_eq!(e.code.as_deref(), Some("FileAlreadyExistsException"), "{e}");

        // What is not there.
        let missing = format!("{dir}/no/such");
        assert_eq!(hdfs.status(&missing).await.unwrap(), None);
        for e in [
            hdfs.set_owner(&missing, "sales", "sales").await.unwrap_err(),
            hdfs.set_permission(&missing, "750").await.unwrap_err(),
        ] {
            assert!(e.is(ErrorKind::NotFound) && e.service == "HDFS", "{e}");
            assert_eq!(e.code.as_deref(), Some("FileNotFoundException"), "{e}");
            assert!(e.message.contains(&missing), "the message names the path: {e}");
        }
        // The server's own refusal of a bad value keeps its name.
        let e = hdfs.set_permission(&product, "758").await.unwrap_err();
        assert_eq!(
            (e.kind, e.operation, e.code.as_deref()),
            (ErrorKind::Other, "SETPERMISSION", Some("IllegalArgumentException"))
        );
    })
    .await;
}

#[tokio::test]
async fn webhdfs_backend_quotas_set_changed_and_cleared() {
    in_scratch_dir(|hdfs, dir| async move {
        let none =
            QuotaUsage { namespace_quota: None, space_quota: None, file_and_directory_count: 1, space_consumed: 0 };
        assert_eq!(hdfs.quota(&dir).await.unwrap(), Some(none), "a new directory has no quota");

        hdfs.set_quota(&dir, Some(100), Some(64 << 20)).await.unwrap();
        let q = hdfs.quota(&dir).await.unwrap().unwrap();
        assert_eq!((q.namespace_quota, q.space_quota), (Some(100), Some(64 << 20)), "{q:?}");

        // Each quota is set to exactly what is asked: None removes that one alone.
        hdfs.set_quota(&dir, Some(50), None).await.unwrap();
        let q = hdfs.quota(&dir).await.unwrap().unwrap();
        assert_eq!((q.namespace_quota, q.space_quota), (Some(50), None), "{q:?}");
        hdfs.set_quota(&dir, None, Some(1 << 30)).await.unwrap();
        let q = hdfs.quota(&dir).await.unwrap().unwrap();
        assert_eq!((q.namespace_quota, q.space_quota), (None, Some(1 << 30)), "{q:?}");

        // Usage counts what is in it (the stack's DataNode keeps one replica). The NameNode
        // checks a space quota against a whole block (128 MiB times the replication) when a
        // file gets one, so a quota smaller than that refuses even this small file
        // (DSQuotaExceededException).
        create_file(&format!("{dir}/orders.csv"), &superuser(), DATA).await;
        let q = hdfs.quota(&dir).await.unwrap().unwrap();
        assert_eq!((q.file_and_directory_count, q.space_consumed), (2, DATA.len() as i64), "{q:?}");

        // Both removed: the NameNode reports none (-1) for either.
        hdfs.set_quota(&dir, None, None).await.unwrap();
        let q = hdfs.quota(&dir).await.unwrap().unwrap();
        assert_eq!((q.namespace_quota, q.space_quota), (None, None), "{q:?}");
        hdfs.set_quota(&dir, None, None).await.unwrap(); // and again, on a directory without quotas

        // Quotas HDFS's own client refuses are refused before asking.
        for (ns, space) in [(Some(0), None), (Some(-5), None), (None, Some(-1)), (Some(i64::MAX), None)] {
            let e = hdfs.set_quota(&dir, ns, space).await.unwrap_err();
            assert!(e.is(ErrorKind::Other) && e.code.is_none(), "{ns:?} {space:?}: {e}");
        }
        assert_eq!(hdfs.quota(&dir).await.unwrap().unwrap().namespace_quota, None);

        let missing = format!("{dir}/no-such");
        assert_eq!(hdfs.quota(&missing).await.unwrap(), None);
        assert!(hdfs.set_quota(&missing, Some(10), None).await.unwrap_err().is(ErrorKind::NotFound));
    })
    .await;
}

#[tokio::test]
async fn webhdfs_backend_acl_entries_modified_and_removed() {
    in_scratch_dir(|hdfs, dir| async move {
        let product = format!("{dir}/orders");
        hdfs.mkdirs(&product, "750").await.unwrap();
        assert_eq!(hdfs.acl_entries(&product).await.unwrap(), Some(vec![]), "no ACL beyond the permission bits");

        let sales = ["user:sales:r-x".to_string(), "default:user:sales:r-x".into()];
        hdfs.modify_acl_entries(&product, &sales).await.unwrap();
        hdfs.modify_acl_entries(&product, &["group:ops:rwx".to_string()]).await.unwrap();
        let entries = hdfs.acl_entries(&product).await.unwrap().unwrap();
        // As the NameNode lists them: the named entries, the owning group's entry (its bits
        // now stand for the mask), and the default entries HDFS fills in around a default one.
        assert_eq!(
            entries,
            [
                "user:sales:r-x",
                "group::r-x",
                "group:ops:rwx",
                "default:user::rwx",
                "default:user:sales:r-x",
                "default:group::r-x",
                "default:mask::r-x",
                "default:other::---",
            ],
        );
        // Modifying one entry leaves the others alone.
        hdfs.modify_acl_entries(&product, &["user:sales:r--".to_string()]).await.unwrap();
        let entries = hdfs.acl_entries(&product).await.unwrap().unwrap();
        assert!(
            entries.contains(&"user:sales:r--".to_string()) && entries.contains(&"group:ops:rwx".to_string()),
            "{entries:?}"
        );
        assert!(entries.contains(&"default:user:sales:r-x".to_string()), "{entries:?}");

        // Removal ignores the permissions given, and leaves group:ops alone.
        hdfs.remove_acl_entries(&product, &sales).await.unwrap();
        let entries = hdfs.acl_entries(&product).await.unwrap().unwrap();
        assert!(!entries.iter().any(|e| e.contains(":sales:")), "{entries:?}");
        assert!(entries.contains(&"group:ops:rwx".to_string()), "{entries:?}");
        // Entries that are not there (any more) are fine, with or without a permission.
        hdfs.remove_acl_entries(&product, &["user:sales".to_string(), "user:ghost:rwx".into()]).await.unwrap();
        hdfs.modify_acl_entries(&product, &[]).await.unwrap();
        hdfs.remove_acl_entries(&product, &[]).await.unwrap();

        // An entry that would smuggle in another is refused before asking.
        let e = hdfs.modify_acl_entries(&product, &["user:sales:r-x,user:evil:rwx".to_string()]).await.unwrap_err();
        assert!(e.is(ErrorKind::Other) && e.operation == "MODIFYACLENTRIES", "{e}");
        assert!(!hdfs.acl_entries(&product).await.unwrap().unwrap().iter().any(|e| e.contains("evil")));

        let missing = format!("{dir}/no-such");
        assert_eq!(hdfs.acl_entries(&missing).await.unwrap(), None);
        assert!(hdfs.modify_acl_entries(&missing, &sales).await.unwrap_err().is(ErrorKind::NotFound));
    })
    .await;
}

#[tokio::test]
async fn webhdfs_backend_tree_lists_parents_before_children() {
    in_scratch_dir(|hdfs, dir| async move {
        hdfs.mkdirs(&format!("{dir}/b"), "750").await.unwrap();
        hdfs.mkdirs(&format!("{dir}/a/c"), "750").await.unwrap();
        create_file(&format!("{dir}/b/x.csv"), &superuser(), DATA).await;
        create_file(&format!("{dir}/z.csv"), &superuser(), DATA).await;
        let tree = hdfs.tree(&dir).await.unwrap();
        let want: Vec<(String, bool)> =
            [("", true), ("/a", true), ("/a/c", true), ("/b", true), ("/b/x.csv", false), ("/z.csv", false)]
                .iter()
                .map(|(p, d)| (format!("{dir}{p}"), *d))
                .collect();
        assert_eq!(tree, want);

        assert_eq!(hdfs.tree(&format!("{dir}/z.csv")).await.unwrap(), [(format!("{dir}/z.csv"), false)]);
        assert_eq!(hdfs.tree(&format!("{dir}/a/c")).await.unwrap(), [(format!("{dir}/a/c"), true)]);
        assert!(hdfs.tree(&format!("{dir}/no-such")).await.unwrap_err().is(ErrorKind::NotFound));
    })
    .await;
}

#[tokio::test]
async fn webhdfs_backend_is_empty_and_delete() {
    in_scratch_dir(|hdfs, dir| async move {
        let product = format!("{dir}/orders");
        hdfs.mkdirs(&product, "750").await.unwrap();
        assert!(hdfs.is_empty(&product).await.unwrap());

        // A subdirectory alone makes it non-empty.
        hdfs.mkdirs(&format!("{product}/day=1"), "750").await.unwrap();
        assert!(!hdfs.is_empty(&product).await.unwrap());
        hdfs.delete(&format!("{product}/day=1"), false).await.unwrap();
        assert!(hdfs.is_empty(&product).await.unwrap());

        // So does a file, written by the domain's user.
        hdfs.set_permission(&dir, "755").await.unwrap();
        hdfs.set_owner(&product, "sales", "sales").await.unwrap();
        create_file(&format!("{product}/part-0.csv"), "sales", DATA).await;
        assert!(!hdfs.is_empty(&product).await.unwrap());

        let e = hdfs.delete(&product, false).await.unwrap_err();
        assert!(e.is(ErrorKind::NotEmpty), "{e}");
        assert_eq!((e.service, e.operation), ("HDFS", "DELETE"));
        assert_eq!(e.code.as_deref(), Some("PathIsNotEmptyDirectoryException"));
        assert!(e.message.contains(&product), "{e}");
        assert!(hdfs.status(&product).await.unwrap().is_some(), "a refused delete left it");

        hdfs.delete(&product, true).await.unwrap();
        assert_eq!(hdfs.status(&product).await.unwrap(), None);
        // Deleting what is not there is fine, recursive or not.
        hdfs.delete(&product, true).await.unwrap();
        hdfs.delete(&product, false).await.unwrap();
        assert!(hdfs.is_empty(&product).await.unwrap_err().is(ErrorKind::NotFound));
        // Never the root.
        assert!(hdfs.delete("/", true).await.unwrap_err().is(ErrorKind::Other));
    })
    .await;
}

#[tokio::test]
async fn webhdfs_backend_refusals_are_auth_errors() {
    in_scratch_dir(|hdfs, dir| async move {
        let nobody = hdfs_as("nobody");
        let inside = format!("{dir}/orders");
        hdfs.mkdirs(&inside, "750").await.unwrap();

        // A 0750 directory of the superuser cannot even be traversed by another user.
        let e = nobody.status(&inside).await.unwrap_err();
        assert!(e.is(ErrorKind::Auth), "{e}");
        assert_eq!(e.code.as_deref(), Some("AccessControlException"));
        assert!(e.message.contains(&inside) && e.message.contains("nobody"), "names the path and the user: {e}");
        assert!(nobody.mkdirs(&format!("{inside}/x"), "750").await.unwrap_err().is(ErrorKind::Auth));
        assert!(nobody.delete(&inside, true).await.unwrap_err().is(ErrorKind::Auth));
        // Quotas are for the superuser only, even where the caller may look.
        hdfs.set_permission(&dir, "755").await.unwrap();
        hdfs.set_permission(&inside, "755").await.unwrap();
        assert!(nobody.status(&inside).await.unwrap().is_some());
        let e = nobody.set_quota(&inside, Some(10), None).await.unwrap_err();
        assert!(e.is(ErrorKind::Auth) && e.operation == "SETQUOTA", "{e}");
        assert!(nobody.set_owner(&inside, "nobody", "nobody").await.unwrap_err().is(ErrorKind::Auth));
        assert_eq!(hdfs.status(&inside).await.unwrap().unwrap().owner, superuser(), "nothing changed");
    })
    .await;
}

#[tokio::test]
async fn webhdfs_backend_hostile_names_stay_one_path() {
    in_scratch_dir(|hdfs, dir| async move {
        // Each of these would end the path, start a query, add an op or leave the directory if
        // it reached the URL unquoted.
        let name = "sp ace?op=DELETE&recursive=true#%2F%ü+";
        let odd = format!("{dir}/{name}");
        hdfs.mkdirs(&odd, "750").await.unwrap();
        assert!(hdfs.status(&odd).await.unwrap().unwrap().is_dir);
        assert_eq!(hdfs.tree(&dir).await.unwrap(), [(dir.clone(), true), (odd.clone(), true)]);
        hdfs.delete(&odd, false).await.unwrap();
        assert_eq!(hdfs.status(&odd).await.unwrap(), None);
        assert!(hdfs.status(&dir).await.unwrap().is_some(), "only the odd name went");

        for bad in [
            format!("{dir}/.."),
            format!("{dir}/a/../.."),
            format!("{dir}//a"),
            format!("{dir}/a\nb"),
            "relative".into(),
        ] {
            let e = hdfs.delete(&bad, true).await.unwrap_err();
            assert!(e.is(ErrorKind::Other) && e.code.is_none(), "{bad:?} was sent: {e}");
        }
        assert!(hdfs.status(&dir).await.unwrap().is_some());
    })
    .await;
}
