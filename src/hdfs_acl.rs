//! The HDFS ACL entries a grant owns, in HDFS's own spec form. Pure rules, unit-tested; the
//! names in them are domain names (already checked by `naming`), and every spec is built here.

/// The entries a grant owns on the product directory and every directory under it: an access
/// entry and a `default:` one, so that what the owner writes later is readable too.
/// `r-x` for `read`, `rwx` for `read_write`.
pub fn grant_entries(consumer: &str, read_write: bool) -> Vec<String> {
    let perms = if read_write { "rwx" } else { "r-x" };
    vec![format!("user:{consumer}:{perms}"), format!("default:user:{consumer}:{perms}")]
}

/// The entries a grant owns on a file under the product directory (files have no default ACL).
pub fn file_entries(consumer: &str, read_write: bool) -> Vec<String> {
    grant_entries(consumer, read_write).into_iter().filter(|e| !e.starts_with("default:")).collect()
}

/// The entry on the owning domain's directory that lets the consumer reach the product
/// directory below it (`--x`: pass through, not list). Shared by every grant of that consumer
/// on that domain's products; the last one to go removes it.
pub fn traversal_entry(consumer: &str) -> String {
    format!("user:{consumer}:--x")
}

/// An entry as `hdfs_acl` shows it: `<path> <entry>`.
pub fn shown(path: &str, entry: &str) -> String {
    format!("{path} {entry}")
}

/// Whether a name may appear in an ACL spec: HDFS splits specs at `,` and `:`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c == ',' || c == ':' || c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_grants_read_and_list_and_read_write_grants_write() {
        assert_eq!(grant_entries("mkt", false), vec!["user:mkt:r-x", "default:user:mkt:r-x"]);
        assert_eq!(grant_entries("mkt", true), vec!["user:mkt:rwx", "default:user:mkt:rwx"]);
        assert_eq!(file_entries("mkt", false), vec!["user:mkt:r-x"]);
        assert_eq!(traversal_entry("mkt"), "user:mkt:--x");
        assert_eq!(shown("/datamesh/sales/orders", "user:mkt:r-x"), "/datamesh/sales/orders user:mkt:r-x");
    }

    #[test]
    fn names_that_would_split_a_spec_are_refused() {
        assert!(valid_name("web-shop"));
        for bad in ["", "a,b", "a:b", "a b", "a\nb", "mkt:rwx,user:evil"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }
}
