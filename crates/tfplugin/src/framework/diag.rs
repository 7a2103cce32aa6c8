//! Diagnostics: every problem travels to Terraform as a diagnostic, at the attribute it is about.

use std::fmt;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The operation failed.
    Error,
    /// The operation went ahead, but the user should know.
    Warning,
}

/// One step of a path into a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathStep {
    /// An attribute of an object or block.
    Attr(String),
    /// A map key.
    Key(String),
    /// A list index.
    Index(i64),
}

/// A path to an attribute, like `kafka.bootstrap_servers[0]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttrPath(pub Vec<PathStep>);

impl AttrPath {
    /// The path of a top-level attribute.
    pub fn attr(name: &str) -> Self {
        Self(vec![PathStep::Attr(name.to_string())])
    }
    /// This path, then an attribute.
    pub fn then(mut self, name: &str) -> Self {
        self.0.push(PathStep::Attr(name.to_string()));
        self
    }
    /// This path, then a map key.
    pub fn key(mut self, key: &str) -> Self {
        self.0.push(PathStep::Key(key.to_string()));
        self
    }
    /// This path, then a list index.
    pub fn index(mut self, i: usize) -> Self {
        self.0.push(PathStep::Index(i as i64));
        self
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.0.iter().enumerate() {
            match step {
                PathStep::Attr(a) if i == 0 => write!(f, "{a}")?,
                PathStep::Attr(a) => write!(f, ".{a}")?,
                PathStep::Key(k) => write!(f, "[{k:?}]")?,
                PathStep::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// One problem, with a short summary and a sentence that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// One line.
    pub summary: String,
    /// What happened and how to fix it.
    pub detail: String,
    /// The attribute it is about, if any.
    pub path: Option<AttrPath>,
}

/// The diagnostics of one call.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// No diagnostics yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// An error not tied to an attribute.
    pub fn error(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, None);
    }
    /// An error at an attribute.
    pub fn attr_error(&mut self, path: AttrPath, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Error, summary, detail, Some(path));
    }
    /// A warning not tied to an attribute.
    pub fn warning(&mut self, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, None);
    }
    /// A warning at an attribute.
    pub fn attr_warning(&mut self, path: AttrPath, summary: impl Into<String>, detail: impl Into<String>) {
        self.push(Severity::Warning, summary, detail, Some(path));
    }
    fn push(
        &mut self,
        severity: Severity,
        summary: impl Into<String>,
        detail: impl Into<String>,
        path: Option<AttrPath>,
    ) {
        self.0.push(Diagnostic { severity, summary: summary.into(), detail: detail.into(), path });
    }
    /// The value of `result`, or None with its diagnostic recorded: a call whose failure ends
    /// the request reads `let Some(x) = diags.ok(call()) else { return ... };`.
    pub fn ok<T>(&mut self, result: Result<T, Diagnostic>) -> Option<T> {
        result.map_err(|d| self.0.push(d)).ok()
    }
    /// Appends all of `other`.
    pub fn extend(&mut self, other: Diagnostics) {
        self.0.extend(other.0);
    }
    /// Whether any error was recorded.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(|d| d.severity == Severity::Error)
    }
    /// Whether nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

impl Diagnostic {
    /// An error not tied to an attribute.
    pub fn error(summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { severity: Severity::Error, summary: summary.into(), detail: detail.into(), path: None }
    }
    /// An error at an attribute.
    pub fn attr_error(path: AttrPath, summary: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { severity: Severity::Error, summary: summary.into(), detail: detail.into(), path: Some(path) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_print_like_terraform_addresses() {
        let p = AttrPath::attr("kafka").then("bootstrap_servers").index(0);
        assert_eq!(p.to_string(), "kafka.bootstrap_servers[0]");
        assert_eq!(AttrPath::attr("tags").key("a").to_string(), "tags[\"a\"]");
    }

    #[test]
    fn warnings_are_not_errors() {
        let mut d = Diagnostics::new();
        d.warning("w", "x");
        assert!(!d.has_errors());
        d.attr_error(AttrPath::attr("name"), "e", "x");
        assert!(d.has_errors());
    }
}
