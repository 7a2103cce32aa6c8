//! Provider functions (`provider::<provider>::<name>(...)`): string arguments in, a string out,
//! and errors that point at the offending argument.

/// A function error: which argument (0-based) and a sentence that says how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionError {
    /// The argument at fault, if one is.
    pub argument: Option<usize>,
    /// What is wrong and how to fix it.
    pub text: String,
}

/// A provider function over string parameters.
#[derive(Debug, Clone, Copy)]
pub struct Function {
    /// Its name, as in `provider::<provider>::<name>`.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// What it returns and when it fails (Markdown).
    pub description: &'static str,
    /// Parameter names and descriptions, in call order.
    pub parameters: &'static [(&'static str, &'static str)],
    /// The implementation.
    pub call: fn(&[String]) -> Result<String, FunctionError>,
}
