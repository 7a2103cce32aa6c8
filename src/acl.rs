//! Kafka ACL bindings: which bindings a domain and a grant own, built from names alone.
//! Pure functions, unit-tested; the Kafka backend creates, describes and deletes them.

use std::fmt;

/// What an ACL binding applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AclResource {
    /// Topics.
    Topic,
    /// Consumer groups.
    Group,
}

/// How the resource name matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AclPattern {
    /// Exactly this name.
    Literal,
    /// Every name starting with this prefix.
    Prefixed,
}

/// The operation allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AclOperation {
    /// Every operation.
    All,
    /// Read (consume, and join groups).
    Read,
    /// Write (produce).
    Write,
    /// Describe (metadata).
    Describe,
}

/// One ALLOW binding from any host.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclBinding {
    /// Resource type.
    pub resource: AclResource,
    /// Resource name or prefix.
    pub name: String,
    /// How `name` matches.
    pub pattern: AclPattern,
    /// The principal, like `User:sales`.
    pub principal: String,
    /// The operation allowed.
    pub operation: AclOperation,
}

impl fmt::Display for AclResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AclResource::Topic => "TOPIC",
            AclResource::Group => "GROUP",
        })
    }
}

impl fmt::Display for AclPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AclPattern::Literal => "LITERAL",
            AclPattern::Prefixed => "PREFIXED",
        })
    }
}

impl fmt::Display for AclOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AclOperation::All => "ALL",
            AclOperation::Read => "READ",
            AclOperation::Write => "WRITE",
            AclOperation::Describe => "DESCRIBE",
        })
    }
}

impl fmt::Display for AclBinding {
    /// Human readable, as shown in `kafka_acls`: `ALLOW User:mkt READ TOPIC PREFIXED sales.orders.`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ALLOW {} {} {} {} {}", self.principal, self.operation, self.resource, self.pattern, self.name)
    }
}

fn allow(principal: &str, operation: AclOperation, resource: AclResource, prefix: String) -> AclBinding {
    AclBinding { resource, name: prefix, pattern: AclPattern::Prefixed, principal: principal.to_string(), operation }
}

/// A domain's own bindings: `ALL` on its topics and `READ` on its consumer groups, both by
/// the prefix `<domain>.`.
pub fn domain_bindings(domain: &str, principal: &str) -> Vec<AclBinding> {
    vec![
        allow(principal, AclOperation::All, AclResource::Topic, format!("{domain}.")),
        allow(principal, AclOperation::Read, AclResource::Group, format!("{domain}.")),
    ]
}

/// A grant's bindings for the consumer's principal: `READ` and `DESCRIBE` on the product's
/// topics (`WRITE` too for `read_write`) and `READ` on the consumer's own groups.
pub fn grant_bindings(
    consumer_domain: &str,
    consumer_principal: &str,
    domain: &str,
    product: &str,
    read_write: bool,
) -> Vec<AclBinding> {
    let topics = format!("{domain}.{product}.");
    let mut out = vec![
        allow(consumer_principal, AclOperation::Read, AclResource::Topic, topics.clone()),
        allow(consumer_principal, AclOperation::Describe, AclResource::Topic, topics.clone()),
    ];
    if read_write {
        out.push(allow(consumer_principal, AclOperation::Write, AclResource::Topic, topics));
    }
    out.push(allow(consumer_principal, AclOperation::Read, AclResource::Group, format!("{consumer_domain}.")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(b: &[AclBinding]) -> Vec<String> {
        b.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_domain_owns_its_topics_and_groups_by_prefix() {
        assert_eq!(
            shown(&domain_bindings("sales", "User:sales")),
            vec!["ALLOW User:sales ALL TOPIC PREFIXED sales.", "ALLOW User:sales READ GROUP PREFIXED sales."]
        );
    }

    #[test]
    fn a_read_grant_reads_and_describes_the_products_topics() {
        assert_eq!(
            shown(&grant_bindings("mkt", "User:mkt", "sales", "orders", false)),
            vec![
                "ALLOW User:mkt READ TOPIC PREFIXED sales.orders.",
                "ALLOW User:mkt DESCRIBE TOPIC PREFIXED sales.orders.",
                "ALLOW User:mkt READ GROUP PREFIXED mkt.",
            ]
        );
    }

    #[test]
    fn a_read_write_grant_also_writes() {
        let b = grant_bindings("mkt", "User:mkt", "sales", "orders", true);
        assert_eq!(b.len(), 4);
        assert!(shown(&b).contains(&"ALLOW User:mkt WRITE TOPIC PREFIXED sales.orders.".to_string()));
    }

    #[test]
    fn prefixes_end_with_a_dot_so_products_never_overlap() {
        // `sales.orders.` must not match the topics of a product called `orders-eu`.
        for b in grant_bindings("mkt", "User:mkt", "sales", "orders", true) {
            assert!(b.name.ends_with('.'), "{b}");
            assert_eq!(b.pattern, AclPattern::Prefixed);
        }
        assert!(!"sales.orders-eu.events".starts_with("sales.orders."));
    }

    #[test]
    fn no_binding_is_a_wildcard() {
        let all = [domain_bindings("sales", "User:sales"), grant_bindings("mkt", "User:mkt", "sales", "orders", true)]
            .concat();
        for b in all {
            assert!(!b.name.contains('*') && !b.principal.ends_with('*'), "{b}");
        }
    }
}
