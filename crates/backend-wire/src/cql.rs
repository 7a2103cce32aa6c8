//! CQL text: the one place a statement is built from names and values (the provider's
//! Cassandra backend sends what is built here). Identifiers are
//! double-quoted (`"` doubled), string literals single-quoted (`'` doubled), and a value CQL
//! cannot hold safely is refused here, before anything reaches the server. Pure functions,
//! unit-tested with hostile input (and fuzzed: `fuzz/fuzz_targets/cql_quoting.rs`).
//!
//! Passwords cannot be bind markers in CQL DDL, so a statement that sets one carries it as a
//! literal. Such a [`Statement`] prints (Display, Debug) with the password written
//! `'(sensitive)'`, and [`Statement::redact`] scrubs it from anything the server or the driver
//! answers, so only [`Statement::cql`] (what goes on the wire) ever holds it.

use std::collections::BTreeMap;
use std::fmt;

/// Cassandra's limit on keyspace (and table) names.
pub const MAX_KEYSPACE_LEN: usize = 48;

/// How a redacted password is written.
const REDACTED: &str = "(sensitive)";

/// The replication of one keyspace, read back: its class and options (factors as text).
pub const SELECT_KEYSPACE: &str = "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?";

/// The tables of one keyspace.
pub const SELECT_TABLES: &str = "SELECT table_name FROM system_schema.tables WHERE keyspace_name = ?";

/// A permission on a keyspace, as CQL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Permission {
    /// `ALL PERMISSIONS`.
    All,
    /// `SELECT`.
    Select,
    /// `MODIFY`.
    Modify,
}

impl Permission {
    /// The permission as CQL writes it after GRANT.
    pub fn cql(self) -> &'static str {
        match self {
            Permission::All => "ALL PERMISSIONS",
            Permission::Select => "SELECT",
            Permission::Modify => "MODIFY",
        }
    }
}

/// A value refused before it reached CQL: what it was meant to be and why. It never holds a
/// password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CqlError {
    /// Why, as a sentence that names the value (passwords excepted).
    pub message: String,
}

impl fmt::Display for CqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CqlError {}

fn refuse(message: String) -> CqlError {
    CqlError { message }
}

/// A statement to send. Printing it never shows a password (see the module doc).
#[derive(Clone, PartialEq, Eq)]
pub struct Statement {
    /// What goes to the server.
    cql: String,
    /// The same with the password literal written `'(sensitive)'`.
    shown: String,
    /// The password as it went in, for [`Statement::redact`]; None when the statement has none.
    secret: Option<String>,
}

impl Statement {
    fn plain(cql: String) -> Self {
        Self { shown: cql.clone(), cql, secret: None }
    }

    /// The CQL text for the driver; it may hold a password: send it, never print it.
    pub fn cql(&self) -> &str {
        &self.cql
    }

    /// Whether the text holds a password.
    pub fn has_secret(&self) -> bool {
        self.secret.is_some()
    }

    /// `text` (an error message about this statement) with the password scrubbed out, both as
    /// given and as quoted in the statement.
    pub fn redact(&self, text: &str) -> String {
        let Some(secret) = self.secret.as_deref().filter(|s| !s.is_empty()) else {
            return text.to_string();
        };
        // The quoted form first: it contains the raw one when the password holds a quote.
        let quoted = secret.replace('\'', "''");
        let text = text.replace(&quoted, REDACTED);
        if quoted == secret {
            text
        } else {
            text.replace(secret, REDACTED)
        }
    }
}

impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}

impl fmt::Debug for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Statement({:?})", self.shown)
    }
}

/// The first control character (NUL included) in `value`, if any.
fn control_char(value: &str) -> Option<char> {
    value.chars().find(|c| c.is_control())
}

/// `name` as a quoted CQL identifier: `"` around it, each `"` inside doubled. Refuses an empty
/// name and control characters (NUL, newlines), which CQL cannot carry in a name.
pub fn identifier(kind: &str, name: &str) -> Result<String, CqlError> {
    if name.is_empty() {
        return Err(refuse(format!("The {kind} name is empty.")));
    }
    if let Some(c) = control_char(name) {
        return Err(refuse(format!("The {kind} name {name:?} holds the control character {c:?}.")));
    }
    Ok(format!("\"{}\"", name.replace('"', "\"\"")))
}

/// `value` as a CQL string literal: `'` around it, each `'` inside doubled. Refuses control
/// characters (NUL, newlines). `kind` names the value in the refusal; the value itself is
/// never repeated there, as it may be a password.
pub fn literal(kind: &str, value: &str) -> Result<String, CqlError> {
    if control_char(value).is_some() {
        return Err(refuse(format!(
            "The {kind} holds a control character (NUL, newline, tab, ...), which CQL cannot carry."
        )));
    }
    Ok(format!("'{}'", value.replace('\'', "''")))
}

/// A keyspace name, quoted. Cassandra allows 1 to 48 letters, digits and `_`; anything else is
/// refused here, before the server sees it.
pub fn keyspace(name: &str) -> Result<String, CqlError> {
    let quoted = identifier("keyspace", name)?;
    if let Some(c) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || *c == '_')) {
        return Err(refuse(format!(
            "The keyspace name {name:?} holds {c:?}: Cassandra allows only letters, digits and '_' in keyspace names."
        )));
    }
    if name.len() > MAX_KEYSPACE_LEN {
        return Err(refuse(format!(
            "The keyspace name {name:?} is {} characters long; Cassandra allows at most {MAX_KEYSPACE_LEN}.",
            name.len()
        )));
    }
    Ok(quoted)
}

/// A role name, quoted. Refuses `'` as well: Cassandra 5.0 cleans up a role's CIDR
/// permissions with a statement of its own that pastes the name between single quotes
/// unescaped, so `CREATE ROLE "a'b"` makes the role and then fails, and `DROP ROLE` drops it
/// and fails too (seen on 5.0.9).
pub fn role(name: &str) -> Result<String, CqlError> {
    let quoted = identifier("role", name)?;
    if name.contains('\'') {
        return Err(refuse(format!(
            "The role name {name:?} holds a single quote, which Cassandra 5 cannot handle in role names."
        )));
    }
    Ok(quoted)
}

/// `{'class': 'NetworkTopologyStrategy', 'dc1': 3, ...}`: at least one datacenter, each
/// factor at least 1.
pub fn replication(factors: &BTreeMap<String, i64>) -> Result<String, CqlError> {
    if factors.is_empty() {
        return Err(refuse("The replication names no datacenter.".into()));
    }
    let mut out = String::from("{'class': 'NetworkTopologyStrategy'");
    for (dc, factor) in factors {
        if dc.is_empty() {
            return Err(refuse("The replication names an empty datacenter.".into()));
        }
        if *factor < 1 {
            return Err(refuse(format!(
                "The replication factor of datacenter {dc:?} is {factor}; it must be at least 1."
            )));
        }
        out.push_str(&format!(", {}: {factor}", literal("datacenter name", dc)?));
    }
    out.push('}');
    Ok(out)
}

/// `CREATE KEYSPACE "ks" WITH replication = {...}` (NetworkTopologyStrategy).
pub fn create_keyspace(name: &str, factors: &BTreeMap<String, i64>) -> Result<Statement, CqlError> {
    Ok(Statement::plain(format!("CREATE KEYSPACE {} WITH replication = {}", keyspace(name)?, replication(factors)?)))
}

/// `ALTER KEYSPACE "ks" WITH replication = {...}` (NetworkTopologyStrategy).
pub fn alter_keyspace(name: &str, factors: &BTreeMap<String, i64>) -> Result<Statement, CqlError> {
    Ok(Statement::plain(format!("ALTER KEYSPACE {} WITH replication = {}", keyspace(name)?, replication(factors)?)))
}

/// `DROP KEYSPACE IF EXISTS "ks"`.
pub fn drop_keyspace(name: &str) -> Result<Statement, CqlError> {
    Ok(Statement::plain(format!("DROP KEYSPACE IF EXISTS {}", keyspace(name)?)))
}

/// `<verb> ROLE "r" WITH LOGIN = true AND PASSWORD = '...'`, or `LOGIN = false` without one.
fn role_statement(verb: &str, name: &str, password: Option<&str>) -> Result<Statement, CqlError> {
    let quoted = role(name)?;
    let Some(password) = password else {
        return Ok(Statement::plain(format!("{verb} ROLE {quoted} WITH LOGIN = false")));
    };
    if password.is_empty() {
        return Err(refuse(format!("The password of role {name:?} is empty.")));
    }
    let head = format!("{verb} ROLE {quoted} WITH LOGIN = true AND PASSWORD = ");
    Ok(Statement {
        cql: format!("{head}{}", literal(&format!("password of role {name:?}"), password)?),
        shown: format!("{head}'{REDACTED}'"),
        secret: Some(password.to_string()),
    })
}

/// `CREATE ROLE "r" WITH LOGIN = true AND PASSWORD = '...'`, or `WITH LOGIN = false` without a
/// password.
pub fn create_role(name: &str, password: Option<&str>) -> Result<Statement, CqlError> {
    role_statement("CREATE", name, password)
}

/// `ALTER ROLE "r" WITH LOGIN = true AND PASSWORD = '...'`, or `WITH LOGIN = false` without a
/// password (the old password stays stored, unusable).
pub fn alter_role(name: &str, password: Option<&str>) -> Result<Statement, CqlError> {
    role_statement("ALTER", name, password)
}

/// `DROP ROLE IF EXISTS "r"`.
pub fn drop_role(name: &str) -> Result<Statement, CqlError> {
    Ok(Statement::plain(format!("DROP ROLE IF EXISTS {}", role(name)?)))
}

/// `GRANT <permission> ON KEYSPACE "ks" TO "r"`.
pub fn grant(permission: Permission, keyspace_name: &str, role_name: &str) -> Result<Statement, CqlError> {
    Ok(Statement::plain(format!(
        "GRANT {} ON KEYSPACE {} TO {}",
        permission.cql(),
        keyspace(keyspace_name)?,
        role(role_name)?
    )))
}

/// `REVOKE <permission> ON KEYSPACE "ks" FROM "r"`.
pub fn revoke(permission: Permission, keyspace_name: &str, role_name: &str) -> Result<Statement, CqlError> {
    Ok(Statement::plain(format!(
        "REVOKE {} ON KEYSPACE {} FROM {}",
        permission.cql(),
        keyspace(keyspace_name)?,
        role(role_name)?
    )))
}

/// `LIST ALL PERMISSIONS ON KEYSPACE "ks" OF "r" NORECURSIVE`. NORECURSIVE leaves out what the
/// role holds on `<all keyspaces>`; Cassandra 5 still lists what roles granted to it hold on
/// the keyspace, so a reader keeps only the rows whose `role` is `r` and whose `resource` is
/// [`keyspace_resource`].
pub fn list_permissions(keyspace_name: &str, role_name: &str) -> Result<Statement, CqlError> {
    Ok(Statement::plain(format!(
        "LIST ALL PERMISSIONS ON KEYSPACE {} OF {} NORECURSIVE",
        keyspace(keyspace_name)?,
        role(role_name)?
    )))
}

/// How LIST PERMISSIONS names a keyspace in its `resource` column: `<keyspace ks>`.
pub fn keyspace_resource(keyspace_name: &str) -> String {
    format!("<keyspace {keyspace_name}>")
}

/// `LIST ROLES OF "r" NORECURSIVE`: the role itself and the roles granted to it directly; a
/// reader keeps the row whose `role` is `r`.
pub fn list_role(role_name: &str) -> Result<Statement, CqlError> {
    Ok(Statement::plain(format!("LIST ROLES OF {} NORECURSIVE", role(role_name)?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &[&str] = &[
        "'; DROP KEYSPACE x; --",
        "\"; DROP KEYSPACE x; --",
        "a'b",
        "a\"b",
        "''",
        "\"\"",
        "semi;colon",
        "ünïcødé ✓ 数据",
        "-- comment",
        "/* block */",
        "$$dollar$$",
    ];

    /// Reads a quoted token back the way CQL's lexer does: it must span the whole text and
    /// give back exactly the value.
    fn unquote(text: &str, q: char) -> Option<String> {
        let inner = text.strip_prefix(q)?.strip_suffix(q)?;
        let mut out = String::new();
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            if c == q {
                // A lone quote would end the token early: the value escaped.
                if chars.next() != Some(q) {
                    return None;
                }
            }
            out.push(c);
        }
        Some(out)
    }

    #[test]
    fn identifiers_round_trip_through_the_lexer_whatever_they_hold() {
        for name in HOSTILE {
            let quoted = identifier("role", name).unwrap();
            assert_eq!(unquote(&quoted, '"').as_deref(), Some(*name), "{quoted}");
        }
        assert_eq!(identifier("role", "a\"b").unwrap(), "\"a\"\"b\"");
        assert_eq!(identifier("role", "sales").unwrap(), "\"sales\"");
    }

    #[test]
    fn literals_round_trip_through_the_lexer_whatever_they_hold() {
        for value in HOSTILE {
            let quoted = literal("password", value).unwrap();
            assert_eq!(unquote(&quoted, '\'').as_deref(), Some(*value), "{quoted}");
        }
        assert_eq!(literal("password", "it's").unwrap(), "'it''s'");
        assert_eq!(literal("password", "").unwrap(), "''");
    }

    #[test]
    fn control_characters_empty_names_and_long_keyspaces_are_refused() {
        for bad in ["a\0b", "line\nbreak", "cr\r", "tab\t", "\u{7f}", "\u{85}"] {
            assert!(identifier("role", bad).is_err(), "{bad:?}");
            assert!(literal("password", bad).is_err(), "{bad:?}");
            assert!(keyspace(bad).is_err(), "{bad:?}");
        }
        assert!(identifier("role", "").is_err());
        assert!(keyspace("").is_err());
        assert!(role("").is_err());
        assert_eq!(keyspace(&"k".repeat(48)).unwrap(), format!("\"{}\"", "k".repeat(48)));
        let long = keyspace(&"k".repeat(49)).unwrap_err();
        assert!(long.message.contains("49 characters"), "{long}");
        // Multi-byte characters are refused for what they are, not miscounted.
        assert!(keyspace("ключ").unwrap_err().message.contains("letters, digits and '_'"));
    }

    #[test]
    fn keyspaces_hold_only_what_cassandra_allows() {
        assert_eq!(keyspace("sales__orders").unwrap(), "\"sales__orders\"");
        assert_eq!(keyspace("Mixed_Case_1").unwrap(), "\"Mixed_Case_1\"");
        for name in HOSTILE {
            assert!(keyspace(name).is_err(), "{name:?}");
        }
        assert!(keyspace("sales-orders").is_err());
    }

    #[test]
    fn role_names_are_quoted_but_single_quotes_are_refused() {
        assert_eq!(role("a\"b; DROP ROLE x; --").unwrap(), "\"a\"\"b; DROP ROLE x; --\"");
        assert_eq!(role("ünï;x").unwrap(), "\"ünï;x\"");
        assert!(role("'; DROP KEYSPACE x; --").unwrap_err().message.contains("single quote"));
    }

    #[test]
    fn keyspace_statements() {
        let r = BTreeMap::from([("datacenter1".to_string(), 3), ("dc2".to_string(), 1)]);
        assert_eq!(
            create_keyspace("sales__orders", &r).unwrap().cql(),
            "CREATE KEYSPACE \"sales__orders\" WITH replication = {'class': 'NetworkTopologyStrategy', 'datacenter1': 3, 'dc2': 1}"
        );
        assert_eq!(
            alter_keyspace("sales__orders", &BTreeMap::from([("dc'; x".to_string(), 2)])).unwrap().cql(),
            "ALTER KEYSPACE \"sales__orders\" WITH replication = {'class': 'NetworkTopologyStrategy', 'dc''; x': 2}"
        );
        assert_eq!(drop_keyspace("sales__orders").unwrap().cql(), "DROP KEYSPACE IF EXISTS \"sales__orders\"");
        assert!(create_keyspace("k", &BTreeMap::new()).is_err(), "no datacenter");
        assert!(create_keyspace("k", &BTreeMap::from([("dc".to_string(), 0)])).is_err(), "factor 0");
        assert!(create_keyspace("k", &BTreeMap::from([(String::new(), 1)])).is_err(), "empty datacenter");
        assert!(create_keyspace("k", &BTreeMap::from([("dc\n".to_string(), 1)])).is_err(), "newline");
        assert!(create_keyspace("'; DROP KEYSPACE x; --", &r).is_err());
    }

    #[test]
    fn role_statements() {
        let s = create_role("sales", Some("p'w;\"d")).unwrap();
        assert_eq!(s.cql(), "CREATE ROLE \"sales\" WITH LOGIN = true AND PASSWORD = 'p''w;\"d'");
        assert_eq!(create_role("sales", None).unwrap().cql(), "CREATE ROLE \"sales\" WITH LOGIN = false");
        assert_eq!(
            alter_role("sales", Some("'; DROP KEYSPACE x; --")).unwrap().cql(),
            "ALTER ROLE \"sales\" WITH LOGIN = true AND PASSWORD = '''; DROP KEYSPACE x; --'"
        );
        assert_eq!(alter_role("sales", None).unwrap().cql(), "ALTER ROLE \"sales\" WITH LOGIN = false");
        assert_eq!(drop_role("a\"b").unwrap().cql(), "DROP ROLE IF EXISTS \"a\"\"b\"");
        assert!(create_role("sales", Some("")).is_err(), "an empty password");
        assert!(create_role("sales", Some("nul\0byte")).is_err());
        assert!(alter_role("sales", Some("new\nline")).is_err());
    }

    #[test]
    fn permission_statements() {
        assert_eq!(
            grant(Permission::Select, "sales__orders", "marketing").unwrap().cql(),
            "GRANT SELECT ON KEYSPACE \"sales__orders\" TO \"marketing\""
        );
        assert_eq!(grant(Permission::All, "k", "r").unwrap().cql(), "GRANT ALL PERMISSIONS ON KEYSPACE \"k\" TO \"r\"");
        assert_eq!(
            revoke(Permission::Modify, "k", "r\"; x").unwrap().cql(),
            "REVOKE MODIFY ON KEYSPACE \"k\" FROM \"r\"\"; x\""
        );
        assert_eq!(
            list_permissions("k", "r").unwrap().cql(),
            "LIST ALL PERMISSIONS ON KEYSPACE \"k\" OF \"r\" NORECURSIVE"
        );
        assert_eq!(list_role("r").unwrap().cql(), "LIST ROLES OF \"r\" NORECURSIVE");
        assert_eq!(keyspace_resource("sales__orders"), "<keyspace sales__orders>");
        assert!(grant(Permission::Select, "k; DROP", "r").is_err());
        assert!(revoke(Permission::Select, "k", "r'").is_err());
    }

    #[test]
    fn a_statement_with_a_password_never_prints_it() {
        for pw in ["s3cr3t-'quoted';--", "plain-password-123", "ünï\"cøde"] {
            let s = alter_role("sales", Some(pw)).unwrap();
            assert!(s.has_secret());
            assert!(s.cql().contains(&pw.replace('\'', "''")), "the wire text holds it");
            for printed in [s.to_string(), format!("{s:?}"), format!("{s:#?}")] {
                assert!(!printed.contains(pw), "{printed}");
                assert!(printed.contains("'(sensitive)'"), "{printed}");
            }
            assert_eq!(s.to_string(), "ALTER ROLE \"sales\" WITH LOGIN = true AND PASSWORD = '(sensitive)'");
            // A server message echoing the statement, or just the password, is scrubbed.
            for echoed in [format!("line 1:40 mismatched input near {}", s.cql()), format!("bad password {pw}!")] {
                let r = s.redact(&echoed);
                assert!(!r.contains(pw) && !r.contains(&pw.replace('\'', "''")), "{r}");
                assert!(r.contains("(sensitive)"), "{r}");
            }
        }
        // Refusals name the role, never the password.
        let e = create_role("sales", Some("top\0secret")).unwrap_err();
        assert!(!e.message.contains("top") && !e.message.contains("secret"), "{e}");
        assert!(e.message.contains("sales"), "{e}");
    }

    #[test]
    fn a_statement_without_a_password_prints_as_sent() {
        let s = drop_role("sales").unwrap();
        assert!(!s.has_secret());
        assert_eq!(s.to_string(), s.cql());
        assert_eq!(s.redact("message"), "message");
        let s = create_role("sales", None).unwrap();
        assert_eq!(s.to_string(), "CREATE ROLE \"sales\" WITH LOGIN = false");
    }
}
