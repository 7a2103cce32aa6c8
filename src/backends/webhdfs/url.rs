//! The one way anything gets into a WebHDFS URL: [`url`] quotes the path segment by segment
//! and every query value, and [`acl_spec`] builds the one value with a grammar of its own (the
//! comma-separated `aclspec`). Nothing else in the backend formats a URL.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What stays as is in a path segment or a query value: RFC 3986's unreserved characters.
/// Everything else is escaped, so `/`, `?`, `&`, `=`, `#`, `%` and `+` in a value can never end
/// a segment, start a query or add a parameter.
const KEEP: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The URL of `op` on `path`, as `user`, with `params`:
/// `<base>/webhdfs/v1<path>?op=<op>&user.name=<user>&<name>=<value>...`.
///
/// `path` must be absolute, of plain segments: no empty, `.` or `..` segment (the URL parser
/// would resolve a `..`, even a `%2E%2E`, and address another path), no control character, and
/// no `:` (HDFS refuses it in a name with `InvalidPathException`; refusing it here says which
/// input was wrong). `/` itself is the root.
pub(super) fn url(base: &str, path: &str, op: &str, user: &str, params: &[(&str, &str)]) -> Result<String, String> {
    let mut url = format!("{}/webhdfs/v1", base.trim_end_matches('/'));
    push_path(&mut url, path)?;
    url.push_str("?op=");
    url.extend(utf8_percent_encode(op, KEEP));
    for (name, value) in [("user.name", user)].iter().chain(params) {
        url.push('&');
        url.extend(utf8_percent_encode(name, KEEP));
        url.push('=');
        url.extend(utf8_percent_encode(value, KEEP));
    }
    Ok(url)
}

/// Appends `path`, checked and quoted, to `url`.
fn push_path(url: &mut String, path: &str) -> Result<(), String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err(format!("{path:?} is not an absolute HDFS path"));
    };
    if rest.is_empty() {
        url.push('/');
        return Ok(());
    }
    for segment in rest.split('/') {
        if segment.is_empty() || segment == "." || segment == ".." {
            return Err(format!("{path:?} has an empty, `.` or `..` segment"));
        }
        if segment.chars().any(|c| c.is_control() || c == ':') {
            return Err(format!("{path:?} has a control character or a `:`, which HDFS names cannot hold"));
        }
        url.push('/');
        url.extend(utf8_percent_encode(segment, KEEP));
    }
    Ok(())
}

/// The `aclspec` of MODIFYACLENTRIES (`with_permissions`) or REMOVEACLENTRIES.
///
/// Each entry is `[default:]<user|group|mask|other>:<name>:<perm>`, `perm` like `r-x`. For a
/// removal the permission may be left out and is dropped either way, but the colon before it
/// stays: WebHDFS checks `aclspec` against
/// `^(default:)?(user|group|mask|other):<name>*:([rwx-]{3})?(,...)*$`, so `user:sales:` is a
/// removal entry and `user:sales` is refused as a malformed parameter. A name with a `,` or a
/// `:` would be read as more entries or fields than the caller meant, so it is refused here.
pub(super) fn acl_spec(entries: &[String], with_permissions: bool) -> Result<String, String> {
    let mut spec = Vec::with_capacity(entries.len());
    for entry in entries {
        spec.push(acl_entry(entry, with_permissions)?);
    }
    Ok(spec.join(","))
}

/// One entry of an `aclspec`, checked; without its permission unless `with_permission`.
fn acl_entry(entry: &str, with_permission: bool) -> Result<String, String> {
    let bad = |why: &str| {
        format!(
            "{entry:?} is not an HDFS ACL entry ({why}); write it like \"user:sales:r-x\" or \
             \"default:group:sales:r-x\""
        )
    };
    let (scope, rest) = match entry.strip_prefix("default:") {
        Some(rest) => ("default:", rest),
        None => ("", entry),
    };
    let fields: Vec<&str> = rest.split(':').collect();
    let (kind, name, perm) = match fields.as_slice() {
        [kind, name, perm] => (*kind, *name, Some(*perm)),
        [kind, name] if !with_permission => (*kind, *name, None),
        _ => return Err(bad("not type:name:permission")),
    };
    if !matches!(kind, "user" | "group" | "mask" | "other") {
        return Err(bad("the type is not user, group, mask or other"));
    }
    if name.chars().any(|c| c == ',' || c.is_whitespace() || c.is_control()) {
        return Err(bad("the name has a comma, a space or a control character"));
    }
    if let Some(perm) = perm {
        let b = perm.as_bytes();
        let well_formed =
            b.len() == 3 && matches!(b[0], b'r' | b'-') && matches!(b[1], b'w' | b'-') && matches!(b[2], b'x' | b'-');
        if !well_formed && (with_permission || !perm.is_empty()) {
            return Err(bad("the permission is not like r-x"));
        }
    }
    Ok(match (with_permission, perm) {
        (true, Some(perm)) => format!("{scope}{kind}:{name}:{perm}"),
        _ => format!("{scope}{kind}:{name}:"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "http://127.0.0.1:9870";

    fn get(path: &str) -> Result<String, String> {
        url(BASE, path, "GETFILESTATUS", "hdfs", &[])
    }

    #[test]
    fn plain_paths_and_the_root() {
        assert_eq!(
            get("/datamesh/sales").unwrap(),
            format!("{BASE}/webhdfs/v1/datamesh/sales?op=GETFILESTATUS&user.name=hdfs")
        );
        assert_eq!(get("/").unwrap(), format!("{BASE}/webhdfs/v1/?op=GETFILESTATUS&user.name=hdfs"));
        // A base with a trailing slash or a gateway prefix keeps its own path.
        assert_eq!(
            url("https://gw/gateway/default/", "/a", "DELETE", "hdfs", &[("recursive", "true")]).unwrap(),
            "https://gw/gateway/default/webhdfs/v1/a?op=DELETE&user.name=hdfs&recursive=true"
        );
    }

    #[test]
    fn hostile_segments_stay_one_segment() {
        let u = get("/d/a b?op=DELETE&recursive=true#x%2F/ü").unwrap();
        let quoted = "/d/a%20b%3Fop%3DDELETE%26recursive%3Dtrue%23x%252F/%C3%BC";
        assert_eq!(u, format!("{BASE}/webhdfs/v1{quoted}?op=GETFILESTATUS&user.name=hdfs"));
        // What reqwest sends is what was quoted: the URL parser resolves nothing and moves nothing
        // out of the path.
        let parsed = reqwest::Url::parse(&u).unwrap();
        assert_eq!(parsed.path(), format!("/webhdfs/v1{quoted}"));
        assert_eq!(parsed.query(), Some("op=GETFILESTATUS&user.name=hdfs"));
        assert_eq!(parsed.fragment(), None);
        let ops: Vec<_> = parsed.query_pairs().filter(|(k, _)| k == "op").collect();
        assert_eq!(ops.len(), 1);
    }

    #[test]
    fn traversal_empty_and_control_characters_are_refused() {
        for bad in [
            "",
            "relative/path",
            "//d",
            "/d/",
            "/d//e",
            "/d/./e",
            "/d/../e",
            "/..",
            "/d/\n",
            "/d/a\u{0}b",
            "/d/a\u{7f}",
            "/d/a\u{85}",
            "/d/a:b",
            "/d\r\nHost: evil",
        ] {
            assert!(get(bad).is_err(), "{bad:?} was accepted: {:?}", get(bad));
        }
        // Dots inside a name are fine; only whole `.`/`..` segments move.
        assert!(get("/d/.hidden/a..b/...").is_ok());
    }

    #[test]
    fn hostile_values_stay_one_value() {
        let u = url(
            BASE,
            "/d",
            "SETOWNER",
            "hdfs&op=DELETE",
            &[("owner", "a b&op=DELETE&recursive=true#%+="), ("group", "ü")],
        )
        .unwrap();
        let parsed = reqwest::Url::parse(&u).unwrap();
        let pairs: Vec<(String, String)> =
            parsed.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        assert_eq!(
            pairs,
            [
                ("op".into(), "SETOWNER".into()),
                ("user.name".into(), "hdfs&op=DELETE".into()),
                ("owner".into(), "a b&op=DELETE&recursive=true#%+=".into()),
                ("group".into(), "ü".into()),
            ]
        );
        assert_eq!(parsed.fragment(), None);
        assert!(!u.contains(' ') && !u.contains('#') && !u.contains('+'), "{u}");
    }

    #[test]
    fn acl_specs_keep_or_drop_permissions() {
        let entries = ["user:sales:r-x".to_string(), "default:user:sales:r-x".into(), "group:ops:rwx".into()];
        assert_eq!(acl_spec(&entries, true).unwrap(), "user:sales:r-x,default:user:sales:r-x,group:ops:rwx");
        assert_eq!(acl_spec(&entries, false).unwrap(), "user:sales:,default:user:sales:,group:ops:");
        // A removal may name entries without their permission, with or without the last colon.
        let bare = ["user:sales".to_string(), "default:group:ops:".into(), "mask::".into()];
        assert_eq!(acl_spec(&bare, false).unwrap(), "user:sales:,default:group:ops:,mask::");
        assert_eq!(acl_spec(&[], true).unwrap(), "");
        // The spec is then one query value like any other.
        let u =
            url(BASE, "/d", "MODIFYACLENTRIES", "hdfs", &[("aclspec", &acl_spec(&entries, true).unwrap())]).unwrap();
        assert!(u.ends_with("aclspec=user%3Asales%3Ar-x%2Cdefault%3Auser%3Asales%3Ar-x%2Cgroup%3Aops%3Arwx"), "{u}");
    }

    #[test]
    fn hostile_acl_entries_are_refused() {
        for bad in [
            "user:sales:r-x,user:evil:rwx",
            "user:sa,les:r-x",
            "user:sales:rwx:extra",
            "user:sales",
            "user:sales:",
            "user:sales:rwxrwx",
            "user:sales:xwr",
            "owner:sales:r-x",
            "default:default:user:sales:r-x",
            "user:sa les:r-x",
            "user:sales\n:r-x",
            "",
        ] {
            assert!(acl_spec(&[bad.to_string()], true).is_err(), "{bad:?} was accepted for a modification");
        }
        for bad in ["user:a,b", "user:sales:r-x,user:evil", "user", "user:sales:nope", "group:x y"] {
            assert!(acl_spec(&[bad.to_string()], false).is_err(), "{bad:?} was accepted for a removal");
        }
    }
}
