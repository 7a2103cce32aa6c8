//! The CQL quoting rules (`backend_wire::cql`) on any text: `identifier` and `literal` either
//! refuse it or quote it so that a CQL lexer (a small one here, reading quoted names, string
//! literals, words and punctuation as Cassandra's does) reads the result back as exactly one
//! token holding the text itself: no quote inside can end the token early, and nothing follows
//! it. Every statement builder, given the text as its names and password, either refuses or
//! builds a statement whose tokens are the fixed words with the text in exactly its quoted
//! places; one holding a password never prints it.
#![no_main]

use std::collections::BTreeMap;

use backend_wire::cql::{self, Permission, Statement};
use libfuzzer_sys::fuzz_target;

/// A CQL token, as far as the statements built here use them.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A double-quoted name, unquoted (`""` read as `"`).
    Name(String),
    /// A single-quoted string literal, unquoted (`''` read as `'`).
    Text(String),
    /// A keyword, an unquoted name or a number.
    Word(String),
    /// One of `{ } : , ; ( ) =`.
    Punct(char),
}

/// `text` as CQL's lexer reads it, or why it cannot: an unterminated quote, or a character that
/// starts no token here (a comment's `-` or `/`, `$`, a control character, ...).
fn tokens(text: &str) -> Result<Vec<Token>, String> {
    let mut out = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' => {}
            '"' | '\'' => {
                let mut value = String::new();
                loop {
                    match chars.next() {
                        None => return Err(format!("an unterminated {c} quote in {text:?}")),
                        // A doubled quote is one quote inside; a single one ends the token.
                        Some(q) if q == c => match chars.peek() {
                            Some(&next) if next == c => {
                                chars.next();
                                value.push(c);
                            }
                            _ => break,
                        },
                        Some(other) => value.push(other),
                    }
                }
                out.push(if c == '"' { Token::Name(value) } else { Token::Text(value) });
            }
            c if c.is_ascii_alphanumeric() || c == '_' => {
                let mut word = c.to_string();
                while let Some(&n) = chars.peek() {
                    if !(n.is_ascii_alphanumeric() || n == '_') {
                        break;
                    }
                    word.push(n);
                    chars.next();
                }
                out.push(Token::Word(word));
            }
            '{' | '}' | ':' | ',' | ';' | '(' | ')' | '=' => out.push(Token::Punct(c)),
            other => return Err(format!("{other:?} starts no token, in {text:?}")),
        }
    }
    Ok(out)
}

/// The tokens of a statement's fixed words (no quotes in them).
fn words(text: &str) -> Vec<Token> {
    tokens(text).unwrap_or_else(|e| panic!("fixed words that are no tokens: {e}"))
}

fn name(s: &str) -> Token {
    Token::Name(s.to_string())
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    quoting_round_trips(&text);
    names_are_refused_exactly_as_documented(&text);
    statements_hold_the_text_where_it_belongs(&text);
    // Split in two, for statements of two names (a keyspace and a role, a role and a password).
    let (a, b) = text.split_at(text.char_indices().nth(text.chars().count() / 2).map_or(text.len(), |(i, _)| i));
    two_name_statements(a, b);
    passwords_never_print(a, b);
});

/// `identifier` and `literal`: refused, or one token that is the text.
fn quoting_round_trips(text: &str) {
    match cql::identifier("role", text) {
        Ok(quoted) => {
            assert!(!text.is_empty() && !has_control(text), "the name {text:?} was taken");
            assert_eq!(tokens(&quoted), Ok(vec![name(text)]), "the identifier {quoted:?}");
        }
        Err(e) => {
            assert!(text.is_empty() || has_control(text), "{text:?} refused: {e}");
            assert!(e.message.contains("role name"), "the refusal does not say what it refused: {e}");
        }
    }
    match cql::literal("password", text) {
        Ok(quoted) => {
            assert!(!has_control(text), "the literal {text:?} was taken");
            assert_eq!(tokens(&quoted), Ok(vec![Token::Text(text.to_string())]), "the literal {quoted:?}");
        }
        Err(e) => {
            assert!(has_control(text), "{text:?} refused: {e}");
            // The value may be a password: the refusal is the same whatever it is, so it cannot
            // repeat it.
            let Err(any) = cql::literal("password", "\0") else { panic!("a NUL in a literal was taken") };
            assert_eq!(e, any, "a refusal of a literal that depends on its value");
            assert!(e.message.contains("password"), "the refusal does not say what it refused: {e}");
        }
    }
}

/// Keyspace and role names: exactly the documented ones are taken, quoted as identifiers.
fn names_are_refused_exactly_as_documented(text: &str) {
    let allowed = !text.is_empty()
        && text.len() <= cql::MAX_KEYSPACE_LEN
        && text.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match cql::keyspace(text) {
        Ok(quoted) => {
            assert!(allowed, "the keyspace name {text:?} was taken");
            assert_eq!(Ok(&quoted), cql::identifier("keyspace", text).as_ref());
        }
        Err(e) => assert!(!allowed, "the keyspace name {text:?} was refused: {e}"),
    }
    let allowed = !text.is_empty() && !has_control(text) && !text.contains('\'');
    match cql::role(text) {
        Ok(quoted) => {
            assert!(allowed, "the role name {text:?} was taken");
            assert_eq!(tokens(&quoted), Ok(vec![name(text)]));
        }
        Err(e) => assert!(!allowed, "the role name {text:?} was refused: {e}"),
    }
}

/// The statements of one name (and a replication with the text as a datacenter).
fn statements_hold_the_text_where_it_belongs(text: &str) {
    let check = |built: Result<Statement, cql::CqlError>, want: Vec<Token>| {
        if let Ok(s) = built {
            assert_eq!(tokens(s.cql()), Ok(want), "{:?}", s.cql());
            assert!(!s.has_secret());
            assert_eq!(s.to_string(), s.cql());
        }
    };
    check(cql::drop_keyspace(text), [words("DROP KEYSPACE IF EXISTS"), vec![name(text)]].concat());
    check(cql::drop_role(text), [words("DROP ROLE IF EXISTS"), vec![name(text)]].concat());
    check(cql::list_role(text), [words("LIST ROLES OF"), vec![name(text)], words("NORECURSIVE")].concat());
    check(cql::create_role(text, None), [words("CREATE ROLE"), vec![name(text)], words("WITH LOGIN = false")].concat());
    if text == "dc1" {
        return;
    }
    let factor = i64::try_from(text.len()).unwrap_or(i64::MAX) - 3;
    let replication = BTreeMap::from([(text.to_string(), factor), ("dc1".to_string(), 3)]);
    match cql::replication(&replication) {
        Ok(r) => {
            assert!(factor >= 1 && !text.is_empty() && !has_control(text), "{r}");
            let t = tokens(&r).unwrap_or_else(|e| panic!("{e}"));
            let pair = |dc: &str, f: i64| vec![Token::Text(dc.into()), Token::Punct(':'), Token::Word(f.to_string())];
            let mut entries = [("dc1", 3), (text, factor)];
            entries.sort();
            let mut want = vec![Token::Punct('{'), Token::Text("class".into()), Token::Punct(':')];
            want.push(Token::Text("NetworkTopologyStrategy".into()));
            for (dc, f) in entries {
                want.push(Token::Punct(','));
                want.extend(pair(dc, f));
            }
            want.push(Token::Punct('}'));
            assert_eq!(t, want, "{r}");
        }
        Err(e) => assert!(factor < 1 || text.is_empty() || has_control(text), "refused: {e}"),
    }
    let _ = cql::create_keyspace(text, &replication);
    let _ = cql::alter_keyspace("sales__orders", &replication);
    assert_eq!(cql::keyspace_resource(text), format!("<keyspace {text}>"));
}

/// The statements of a keyspace and a role.
fn two_name_statements(keyspace: &str, role: &str) {
    for permission in [Permission::All, Permission::Select, Permission::Modify] {
        let p = words(permission.cql());
        let on = |s: Result<Statement, cql::CqlError>, verb: &str, to: &str| {
            if let Ok(s) = s {
                let want =
                    [words(verb), p.clone(), words("ON KEYSPACE"), vec![name(keyspace)], words(to), vec![name(role)]];
                assert_eq!(tokens(s.cql()), Ok(want.concat()), "{:?}", s.cql());
            }
        };
        on(cql::grant(permission, keyspace, role), "GRANT", "TO");
        on(cql::revoke(permission, keyspace, role), "REVOKE", "FROM");
    }
    if let Ok(s) = cql::list_permissions(keyspace, role) {
        let want = [
            words("LIST ALL PERMISSIONS ON KEYSPACE"),
            vec![name(keyspace)],
            words("OF"),
            vec![name(role)],
            words("NORECURSIVE"),
        ];
        assert_eq!(tokens(s.cql()), Ok(want.concat()), "{:?}", s.cql());
    }
}

/// A role statement with a password: the password is the one literal, and neither printing
/// the statement nor redacting what it sent shows it.
fn passwords_never_print(role: &str, password: &str) {
    for (verb, built) in
        [("CREATE", cql::create_role(role, Some(password))), ("ALTER", cql::alter_role(role, Some(password)))]
    {
        let Ok(s) = built else {
            assert!(cql::role(role).is_err() || password.is_empty() || has_control(password), "refused");
            continue;
        };
        let head = [words(verb), words("ROLE"), vec![name(role)], words("WITH LOGIN = true AND PASSWORD =")].concat();
        assert_eq!(tokens(s.cql()), Ok([head.clone(), vec![Token::Text(password.to_string())]].concat()));
        assert!(s.has_secret());
        let shown = [head, vec![Token::Text("(sensitive)".into())]].concat();
        assert_eq!(tokens(&s.to_string()), Ok(shown.clone()), "{s}");
        assert_eq!(format!("{s:?}"), format!("Statement({:?})", s.to_string()));
        // What the server echoes of the statement loses the literal it was sent.
        // (Unless the printed form holds the same text, as a password of `(sensitive)` does.)
        let sent = format!("'{}'", password.replace('\'', "''"));
        let redacted = s.redact(&format!("line 1:40 mismatched input near {}", s.cql()));
        if !s.to_string().contains(&sent) {
            assert!(!redacted.contains(&sent), "the password survived redaction: {redacted:?}");
        }
    }
}
