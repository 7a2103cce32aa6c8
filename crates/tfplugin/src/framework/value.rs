//! Terraform values (known, null, unknown) and their types, as the protocol carries them.
//!
//! [`Type`] is the subset of cty types this provider uses, with cty's JSON type
//! encoding (the form schemas and the dynamic-type wrapper carry). [`Value`] is an
//! untyped tree: the schema's [`Type`] travels beside it wherever the encoding
//! depends on it (see `crate::protocol::dynamic_value`).
use std::collections::BTreeMap;
use std::fmt;

/// How deeply types and values may nest before decoding or encoding gives up.
///
/// Real schemas nest a handful of levels; the limit exists so that hostile or
/// corrupt input (and runaway recursion in inferred types) ends in an error
/// instead of a stack overflow.
pub const MAX_DEPTH: usize = 64;

/// How many object attributes a value from outside the process may leave out (each decodes as
/// null) beyond one per byte of its encoding.
///
/// Terraform writes every attribute of an object, so its values leave out none, and a state
/// written before an attribute existed leaves out a few. Without a bound, a small hostile input
/// (empty maps where objects of many attributes belong, or under the dynamic type a list of
/// them whose type the input itself declares) decodes into gigabytes of nulls.
pub const OMITTED_ATTRIBUTES_SLACK: usize = 4096;

/// A cty type, as far as this provider uses them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Type {
    /// `bool`.
    Bool,
    /// `number` (held as `f64` here).
    Number,
    /// `string`.
    String,
    /// `list(T)`.
    List(Box<Type>),
    /// `set(T)`.
    Set(Box<Type>),
    /// `map(T)`.
    Map(Box<Type>),
    /// `object({...})`, attributes by name.
    Object(BTreeMap<String, Type>),
    /// The dynamic pseudo-type: the concrete type travels with the value.
    Dynamic,
}

/// A Terraform value: unknown (only during planning), null, or known.
///
/// Equality is structural, except that two `Set`s compare as multisets: the order
/// of their elements is irrelevant, because Terraform does not preserve it.
#[derive(Debug, Clone)]
pub enum Value {
    /// Not yet known (only during planning).
    Unknown,
    /// Null, of whatever type the context says.
    Null,
    /// A known bool.
    Bool(bool),
    /// A known number.
    Number(f64),
    /// A known string.
    String(String),
    /// A known list; elements are in order.
    List(Vec<Value>),
    /// A known set; element order carries no meaning (see the `PartialEq` impl).
    Set(Vec<Value>),
    /// A known map.
    Map(BTreeMap<String, Value>),
    /// A known object, attributes by name.
    Object(BTreeMap<String, Value>),
}

/// The value `Value::get` hands out for absent attributes.
static NULL: Value = Value::Null;

/// A failure to decode or encode a value or type, with where it happened.
#[derive(Debug)]
pub struct CodecError {
    /// Steps from the root to the failure: attribute names, `["key"]` for map
    /// keys, `[i]` for list/set indices.
    pub path: Vec<String>,
    /// What went wrong.
    pub message: String,
}

impl CodecError {
    /// An error at the root (callers add path steps with [`CodecError::within`]).
    pub fn new(message: impl Into<String>) -> Self {
        CodecError { path: Vec::new(), message: message.into() }
    }

    /// Puts `segment` in front of the path; errors are built at the leaf and
    /// gain their path while the recursion unwinds.
    pub fn within(mut self, segment: impl Into<String>) -> Self {
        self.path.insert(0, segment.into());
        self
    }

    /// Prefixes the path with an object attribute name.
    pub fn in_attr(self, name: &str) -> Self {
        self.within(name)
    }

    /// Prefixes the path with a list or set index, shown as `[i]`.
    pub fn in_index(self, index: usize) -> Self {
        self.within(format!("[{index}]"))
    }

    /// Prefixes the path with a map key, shown as `["key"]` (JSON-quoted so that
    /// odd keys stay readable and unambiguous).
    pub fn in_key(self, key: &str) -> Self {
        let quoted = serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""));
        self.within(format!("[{quoted}]"))
    }

    /// The path as text, like `.a.b[2]` or `.tags["a"]`; empty at the root.
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for seg in &self.path {
            if !seg.starts_with('[') {
                out.push('.');
            }
            out.push_str(seg);
        }
        out
    }
}

impl fmt::Display for CodecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{} at {}", self.message, self.path_string())
        }
    }
}

impl std::error::Error for CodecError {}

impl Type {
    /// `list(element)`.
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    /// `set(element)`.
    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    /// `map(element)`.
    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// `object({...})` from `(name, type)` pairs.
    pub fn object<I: IntoIterator<Item = (&'static str, Type)>>(fields: I) -> Type {
        Type::Object(fields.into_iter().map(|(name, ty)| (name.to_string(), ty)).collect())
    }

    /// A short name for error messages (`list`, `object`, ...).
    pub fn kind_name(&self) -> &'static str {
        match self {
            Type::Bool => "bool",
            Type::Number => "number",
            Type::String => "string",
            Type::List(_) => "list",
            Type::Set(_) => "set",
            Type::Map(_) => "map",
            Type::Object(_) => "object",
            Type::Dynamic => "dynamic",
        }
    }

    /// The cty JSON type encoding: `"string"`, `["list","string"]`,
    /// `["object",{"a":"string"}]`, ...
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Type::Bool => J::String("bool".into()),
            Type::Number => J::String("number".into()),
            Type::String => J::String("string".into()),
            Type::Dynamic => J::String("dynamic".into()),
            Type::List(t) => J::Array(vec![J::String("list".into()), t.to_json()]),
            Type::Set(t) => J::Array(vec![J::String("set".into()), t.to_json()]),
            Type::Map(t) => J::Array(vec![J::String("map".into()), t.to_json()]),
            Type::Object(attrs) => {
                let fields: serde_json::Map<String, J> =
                    attrs.iter().map(|(name, ty)| (name.clone(), ty.to_json())).collect();
                J::Array(vec![J::String("object".into()), J::Object(fields)])
            }
        }
    }

    /// Parses the cty JSON type encoding (see [`Type::to_json`]).
    ///
    /// Terraform's three-element object form `["object",{...},["optional",...]]`
    /// is accepted and its optional-attribute list ignored: optionality only
    /// matters to Terraform's own type conversion.
    pub fn from_json(json: &serde_json::Value) -> Result<Type, CodecError> {
        Self::from_json_depth(json, 0)
    }

    fn from_json_depth(json: &serde_json::Value, depth: usize) -> Result<Type, CodecError> {
        use serde_json::Value as J;
        if depth > MAX_DEPTH {
            return Err(CodecError::new("type nests too deeply"));
        }
        match json {
            J::String(name) => match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(CodecError::new(format!("unsupported type {other:?}"))),
            },
            J::Array(parts) => {
                let kind = parts
                    .first()
                    .and_then(J::as_str)
                    .ok_or_else(|| CodecError::new("type array must start with a kind name"))?;
                match (kind, parts.len()) {
                    ("list" | "set" | "map", 2) => {
                        let element = Self::from_json_depth(&parts[1], depth + 1)?;
                        Ok(match kind {
                            "list" => Type::list(element),
                            "set" => Type::set(element),
                            _ => Type::map(element),
                        })
                    }
                    ("object", 2 | 3) => {
                        let fields =
                            parts[1].as_object().ok_or_else(|| CodecError::new("object type needs a JSON object"))?;
                        let mut attrs = BTreeMap::new();
                        for (name, ty) in fields {
                            let ty = Self::from_json_depth(ty, depth + 1).map_err(|e| e.in_attr(name))?;
                            attrs.insert(name.clone(), ty);
                        }
                        Ok(Type::Object(attrs))
                    }
                    _ => Err(CodecError::new(format!("unsupported type {kind:?} with {} parts", parts.len()))),
                }
            }
            _ => Err(CodecError::new("a type must be a JSON string or array")),
        }
    }
}

impl PartialEq for Value {
    /// Structural equality, except that `Set`s compare as multisets (order is
    /// irrelevant, multiplicity counts). Numbers compare as `f64`, so NaN is
    /// unequal to itself, as in IEEE arithmetic.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Unknown, Value::Unknown) | (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => multiset_eq(a, b),
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

/// Order-insensitive comparison: each element of `a` must pair off with a
/// distinct equal element of `b`. Quadratic, but sets in schemas are small and
/// `Value` has no total order or hash to do better with.
fn multiset_eq(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut used = vec![false; b.len()];
    a.iter().all(|x| {
        let found = b.iter().enumerate().find(|(i, y)| !used[*i] && x == *y).map(|(i, _)| i);
        match found {
            Some(i) => {
                used[i] = true;
                true
            }
            None => false,
        }
    })
}

impl Value {
    /// Whether this is `Null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Whether this is `Unknown` (the value itself, not something inside it).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// Whether this is not `Unknown` (nested parts may still be unknown).
    pub fn is_known(&self) -> bool {
        !self.is_unknown()
    }

    /// Whether no `Unknown` appears anywhere in this value.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown => false,
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
            Value::List(items) | Value::Set(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(attrs) | Value::Object(attrs) => attrs.values().all(Value::is_wholly_known),
        }
    }

    /// The string, if this is a known string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The bool, if this is a known bool.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a known number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as `i64`, if this is a known number that is integral and in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_f64().and_then(f64_to_i64)
    }

    /// Attribute `attr` of an object; `Null` when absent or when this is not an object.
    pub fn get(&self, attr: &str) -> &Value {
        match self {
            Value::Object(attrs) => attrs.get(attr).unwrap_or(&NULL),
            _ => &NULL,
        }
    }

    /// Mutable access to attribute `attr` of an object, if present.
    pub fn get_mut(&mut self, attr: &str) -> Option<&mut Value> {
        match self {
            Value::Object(attrs) => attrs.get_mut(attr),
            _ => None,
        }
    }

    /// Sets attribute `attr` of an object; does nothing on anything else.
    pub fn set(&mut self, attr: &str, v: Value) {
        if let Value::Object(attrs) = self {
            attrs.insert(attr.to_string(), v);
        }
    }

    /// A known string value.
    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// An object value from `(name, value)` pairs.
    pub fn object<'a, I: IntoIterator<Item = (&'a str, Value)>>(attrs: I) -> Value {
        Value::Object(attrs.into_iter().map(|(name, v)| (name.to_string(), v)).collect())
    }

    /// The elements of a list or set; empty for anything else.
    pub fn elements(&self) -> &[Value] {
        match self {
            Value::List(items) | Value::Set(items) => items,
            _ => &[],
        }
    }

    /// The null value of `ty` (values are untyped here, so this is just `Null`;
    /// it exists so call sites say which type they mean).
    pub fn null_of(ty: &Type) -> Value {
        let _ = ty;
        Value::Null
    }

    /// A short name for error messages.
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Unknown => "unknown",
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "map",
            Value::Object(_) => "object",
        }
    }

    /// The most specific type this value shows, for encoding it under the
    /// dynamic type. Null and unknown show `Dynamic`. A collection's element type
    /// is the type all its known, non-null elements agree on, else `Dynamic`
    /// (then each element carries its own type on the wire).
    pub fn infer_type(&self) -> Type {
        match self {
            Value::Unknown | Value::Null => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::list(common_type(items.iter())),
            Value::Set(items) => Type::set(common_type(items.iter())),
            Value::Map(items) => Type::map(common_type(items.values())),
            Value::Object(attrs) => {
                Type::Object(attrs.iter().map(|(name, v)| (name.clone(), v.infer_type())).collect())
            }
        }
    }

    /// Converts JSON (Terraform's JSON state, or a serde-serialized Rust struct)
    /// into a value of type `ty`.
    ///
    /// JSON null is `Null`. Like cty's JSON decoder, strings holding numbers or
    /// `true`/`false` are accepted for numbers and bools, and numbers and bools
    /// for strings. Object attributes missing from the JSON become `Null`; JSON
    /// keys the object type lacks are an error. For the dynamic type, cty's
    /// wrapper `{"value": ..., "type": ...}` is honoured; any other JSON gets its
    /// type from its shape (arrays become lists, objects become objects).
    pub fn from_json_typed(json: &serde_json::Value, ty: &Type) -> Result<Value, CodecError> {
        Self::from_json_typed_bounded(json, ty, usize::MAX)
    }

    /// [`Value::from_json_typed`] for JSON from outside the process: objects may leave out at
    /// most `max_omitted` attributes in all (see [`OMITTED_ATTRIBUTES_SLACK`]).
    pub fn from_json_typed_bounded(
        json: &serde_json::Value,
        ty: &Type,
        max_omitted: usize,
    ) -> Result<Value, CodecError> {
        let mut budget = max_omitted;
        from_json_depth(json, ty, 0, &mut budget)
    }

    /// The value as plain JSON: null and unknown become `null`, integral numbers
    /// within `i64` range become JSON integers, other numbers floats (non-finite
    /// ones, which JSON cannot hold, `null`); lists and sets become arrays, maps
    /// and objects JSON objects.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Unknown | Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => match f64_to_i64(*n) {
                Some(i) => J::Number(i.into()),
                None => serde_json::Number::from_f64(*n).map_or(J::Null, J::Number),
            },
            Value::String(s) => J::String(s.clone()),
            Value::List(items) | Value::Set(items) => J::Array(items.iter().map(Value::to_json).collect()),
            Value::Map(attrs) | Value::Object(attrs) => {
                J::Object(attrs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

/// The element type every known, non-null item agrees on, or `Dynamic`.
fn common_type<'a>(items: impl Iterator<Item = &'a Value>) -> Type {
    let mut common: Option<Type> = None;
    for item in items {
        if item.is_null() || item.is_unknown() {
            continue;
        }
        let ty = item.infer_type();
        match &common {
            None => common = Some(ty),
            Some(c) if *c == ty => {}
            Some(_) => return Type::Dynamic,
        }
    }
    common.unwrap_or(Type::Dynamic)
}

/// `f` as `i64` when it is integral and exactly representable; `None` otherwise.
pub fn f64_to_i64(f: f64) -> Option<i64> {
    // 2^63 is exactly representable as f64; i64::MAX is not, so bound by 2^63.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if f.is_finite() && f.fract() == 0.0 && (-LIMIT..LIMIT).contains(&f) {
        Some(f as i64)
    } else {
        None
    }
}

/// Parses a decimal number sent as a string (cty sends numbers that don't fit
/// an `f64` exactly that way). Only plain decimal syntax is accepted, so Rust's
/// extra spellings (`inf`, `NaN`) are refused, as are results that overflow.
pub fn parse_decimal(s: &str) -> Result<f64, CodecError> {
    let plain = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    let parsed = if plain { s.parse::<f64>().ok() } else { None };
    match parsed {
        Some(n) if n.is_finite() => Ok(n),
        Some(_) => Err(CodecError::new(format!("number {s:?} is out of range"))),
        None => Err(CodecError::new(format!("{s:?} is not a number"))),
    }
}

fn mismatch(ty: &Type, json: &serde_json::Value) -> CodecError {
    let got = match json {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "bool",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    };
    CodecError::new(format!("expected {}, got {got}", ty.kind_name()))
}

/// Takes `missing` omitted attributes out of what `budget` has left, or fails.
pub(crate) fn spend_omissions(budget: &mut usize, missing: usize) -> Result<(), CodecError> {
    *budget = budget.checked_sub(missing).ok_or_else(|| {
        CodecError::new(format!(
            "the value leaves out {missing} attributes of an object, more than its size allows (Terraform sends every attribute)"
        ))
    })?;
    Ok(())
}

/// `omissions` is what is left of the budget of omitted attributes.
fn from_json_depth(
    json: &serde_json::Value,
    ty: &Type,
    depth: usize,
    omissions: &mut usize,
) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    if depth > MAX_DEPTH {
        return Err(CodecError::new("value nests too deeply"));
    }
    if json.is_null() {
        return Ok(Value::Null);
    }
    match (ty, json) {
        (Type::Bool, J::Bool(b)) => Ok(Value::Bool(*b)),
        (Type::Bool, J::String(s)) => match s.as_str() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(CodecError::new(format!("expected bool, got string {s:?}"))),
        },
        (Type::Number, J::Number(n)) => {
            n.as_f64().map(Value::Number).ok_or_else(|| CodecError::new("number is out of range"))
        }
        (Type::Number, J::String(s)) => parse_decimal(s).map(Value::Number),
        (Type::String, J::String(s)) => Ok(Value::String(s.clone())),
        (Type::String, J::Number(n)) => Ok(Value::String(n.to_string())),
        (Type::String, J::Bool(b)) => Ok(Value::String(b.to_string())),
        (Type::List(el) | Type::Set(el), J::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(from_json_depth(item, el, depth + 1, omissions).map_err(|e| e.in_index(i))?);
            }
            Ok(if matches!(ty, Type::List(_)) { Value::List(out) } else { Value::Set(out) })
        }
        (Type::Map(el), J::Object(fields)) => {
            let mut out = BTreeMap::new();
            for (k, v) in fields {
                out.insert(k.clone(), from_json_depth(v, el, depth + 1, omissions).map_err(|e| e.in_key(k))?);
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), J::Object(fields)) => {
            if let Some(extra) = fields.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(CodecError::new(format!("unsupported attribute {extra:?}")));
            }
            // Every JSON key is an attribute (checked above) and keys are unique.
            spend_omissions(omissions, attrs.len() - fields.len())?;
            let mut out = BTreeMap::new();
            for (name, aty) in attrs {
                let v = match fields.get(name) {
                    Some(j) => from_json_depth(j, aty, depth + 1, omissions).map_err(|e| e.in_attr(name))?,
                    None => Value::Null,
                };
                out.insert(name.clone(), v);
            }
            Ok(Value::Object(out))
        }
        (Type::Dynamic, _) => dynamic_from_json(json, depth, omissions),
        _ => Err(mismatch(ty, json)),
    }
}

fn dynamic_from_json(json: &serde_json::Value, depth: usize, omissions: &mut usize) -> Result<Value, CodecError> {
    use serde_json::Value as J;
    match json {
        J::Null => Ok(Value::Null),
        J::Bool(_) => from_json_depth(json, &Type::Bool, depth, omissions),
        J::Number(_) => from_json_depth(json, &Type::Number, depth, omissions),
        J::String(_) => from_json_depth(json, &Type::String, depth, omissions),
        J::Array(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(dynamic_from_json(item, depth + 1, omissions).map_err(|e| e.in_index(i))?);
            }
            Ok(Value::List(out))
        }
        J::Object(fields) => {
            // cty's JSON form of a dynamic value names its type beside it.
            if let (2, Some(value), Some(ty)) = (fields.len(), fields.get("value"), fields.get("type")) {
                let ty = Type::from_json(ty).map_err(|e| e.in_attr("type"))?;
                return from_json_depth(value, &ty, depth + 1, omissions);
            }
            let mut out = BTreeMap::new();
            for (k, v) in fields {
                out.insert(k.clone(), dynamic_from_json(v, depth + 1, omissions).map_err(|e| e.in_attr(k))?);
            }
            Ok(Value::Object(out))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample_type() -> Type {
        Type::object([
            ("id", Type::String),
            ("count", Type::Number),
            ("enabled", Type::Bool),
            ("tags", Type::map(Type::String)),
            ("names", Type::list(Type::String)),
            ("ports", Type::set(Type::Number)),
            ("nested", Type::object([("a", Type::String), ("b", Type::list(Type::Number))])),
            ("extra", Type::Dynamic),
        ])
    }

    #[test]
    fn type_json_roundtrip() {
        let ty = sample_type();
        let j = ty.to_json();
        assert_eq!(j[0], json!("object"));
        assert_eq!(j[1]["tags"], json!(["map", "string"]));
        assert_eq!(j[1]["ports"], json!(["set", "number"]));
        assert_eq!(j[1]["extra"], json!("dynamic"));
        assert_eq!(Type::from_json(&j).ok(), Some(ty));
    }

    #[test]
    fn type_json_exact_text() {
        let ty = Type::object([("a", Type::String), ("b", Type::list(Type::Bool))]);
        assert_eq!(
            serde_json::to_string(&ty.to_json()).ok().as_deref(),
            Some(r#"["object",{"a":"string","b":["list","bool"]}]"#)
        );
    }

    #[test]
    fn type_from_json_optional_attrs_form() {
        let j = json!(["object", {"a": "string", "b": "number"}, ["b"]]);
        assert_eq!(Type::from_json(&j).ok(), Some(Type::object([("a", Type::String), ("b", Type::Number)])));
    }

    #[test]
    fn type_from_json_rejects_garbage() {
        for j in [
            json!("float"),
            json!(["list"]),
            json!(["tuple", ["string"]]),
            json!(["object", "x"]),
            json!(42),
            json!([]),
        ] {
            assert!(Type::from_json(&j).is_err(), "{j}");
        }
        let err = Type::from_json(&json!(["object", {"a": ["list", "nope"]}]));
        assert_eq!(err.map_err(|e| e.path), Err(vec!["a".to_string()]));
    }

    #[test]
    fn type_from_json_depth_limit() {
        let mut j = json!("string");
        for _ in 0..(MAX_DEPTH + 5) {
            j = json!(["list", j]);
        }
        assert!(Type::from_json(&j).is_err());
    }

    #[test]
    fn accessors() {
        let mut v = Value::object([
            ("name", Value::string("x")),
            ("n", Value::Number(3.0)),
            ("f", Value::Number(2.5)),
            ("b", Value::Bool(true)),
            ("l", Value::List(vec![Value::Null, Value::Unknown])),
        ]);
        assert_eq!(v.get("name").as_str(), Some("x"));
        assert_eq!(v.get("n").as_i64(), Some(3));
        assert_eq!(v.get("f").as_i64(), None);
        assert_eq!(v.get("f").as_f64(), Some(2.5));
        assert_eq!(v.get("b").as_bool(), Some(true));
        assert!(v.get("missing").is_null());
        assert!(Value::string("s").get("x").is_null());
        assert_eq!(v.get("l").elements().len(), 2);
        assert!(Value::Null.elements().is_empty());
        assert!(v.is_known());
        assert!(!v.is_wholly_known());
        assert!(!v.get("l").is_unknown());
        assert!(v.get("l").elements()[1].is_unknown());

        v.set("name", Value::string("y"));
        assert_eq!(v.get("name").as_str(), Some("y"));
        if let Some(n) = v.get_mut("n") {
            *n = Value::Number(4.0);
        }
        assert_eq!(v.get("n").as_i64(), Some(4));
        assert!(v.get_mut("missing").is_none());

        let mut s = Value::string("z");
        s.set("a", Value::Null);
        assert_eq!(s, Value::string("z"));
        assert!(s.get_mut("a").is_none());
        assert_eq!(Value::null_of(&Type::String), Value::Null);
    }

    #[test]
    fn as_i64_edges() {
        assert_eq!(Value::Number(-0.0).as_i64(), Some(0));
        assert_eq!(Value::Number(9.3e18).as_i64(), None);
        assert_eq!(Value::Number(-9_223_372_036_854_775_808.0).as_i64(), Some(i64::MIN));
        assert_eq!(Value::Number(f64::NAN).as_i64(), None);
        assert_eq!(Value::Number(f64::INFINITY).as_i64(), None);
        assert_eq!(Value::string("1").as_i64(), None);
    }

    #[test]
    fn set_equality_ignores_order() {
        let a = Value::Set(vec![Value::string("a"), Value::string("b"), Value::string("b")]);
        let b = Value::Set(vec![Value::string("b"), Value::string("a"), Value::string("b")]);
        let c = Value::Set(vec![Value::string("a"), Value::string("a"), Value::string("b")]);
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(
            Value::List(vec![Value::string("a"), Value::string("b")]),
            Value::List(vec![Value::string("b"), Value::string("a")])
        );
        assert_ne!(Value::List(vec![]), Value::Set(vec![]));
        assert_ne!(Value::Map(BTreeMap::new()), Value::Object(BTreeMap::new()));
        assert_ne!(Value::Null, Value::Unknown);
    }

    #[test]
    fn error_display_path() {
        let e = CodecError::new("expected string, got number").in_key("a").in_attr("tags");
        assert_eq!(e.to_string(), r#"expected string, got number at .tags["a"]"#);
        let e = CodecError::new("boom").in_index(2).in_attr("b").in_attr("a");
        assert_eq!(e.to_string(), "boom at .a.b[2]");
        assert_eq!(CodecError::new("plain").to_string(), "plain");
    }

    #[test]
    fn from_json_typed_object() {
        let j = json!({
            "id": "i-1",
            "count": 3,
            "enabled": "true",
            "tags": {"env": "dev"},
            "names": ["a", "b"],
            "ports": [80, 443],
            "nested": {"a": 1}
        });
        let v = Value::from_json_typed(&j, &sample_type());
        let v = match v {
            Ok(v) => v,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(v.get("id"), &Value::string("i-1"));
        assert_eq!(v.get("count").as_i64(), Some(3));
        assert_eq!(v.get("enabled").as_bool(), Some(true));
        assert_eq!(v.get("tags"), &Value::Map([("env".to_string(), Value::string("dev"))].into()));
        assert_eq!(v.get("ports"), &Value::Set(vec![Value::Number(443.0), Value::Number(80.0)]));
        // Number converted to string as cty does; missing attributes are null.
        assert_eq!(v.get("nested").get("a"), &Value::string("1"));
        assert!(v.get("nested").get("b").is_null());
        assert!(v.get("extra").is_null());
        assert!(matches!(v.get("nested"), Value::Object(_)));
    }

    #[test]
    fn from_json_typed_errors_have_paths() {
        let ty = sample_type();
        let e = Value::from_json_typed(&json!({"tags": {"a": [1]}}), &ty);
        let e = e.err().map(|e| e.to_string());
        assert_eq!(e.as_deref(), Some(r#"expected string, got array at .tags["a"]"#));

        let e = Value::from_json_typed(&json!({"nested": {"b": [1, "x"]}}), &ty);
        assert_eq!(e.err().map(|e| e.path_string()).as_deref(), Some(".nested.b[1]"));

        let e = Value::from_json_typed(&json!({"bogus": 1}), &ty);
        assert!(e.err().map(|e| e.message).unwrap_or_default().contains("bogus"));

        assert!(Value::from_json_typed(&json!("x"), &Type::Number).is_err());
        assert!(Value::from_json_typed(&json!("NaN"), &Type::Number).is_err());
        assert!(Value::from_json_typed(&json!("yes"), &Type::Bool).is_err());
        assert!(Value::from_json_typed(&json!([1]), &Type::map(Type::Number)).is_err());
    }

    #[test]
    fn from_json_typed_dynamic() {
        let v = Value::from_json_typed(&json!({"a": [1, "x"], "b": null}), &Type::Dynamic);
        assert_eq!(
            v.ok(),
            Some(Value::object(
                [("a", Value::List(vec![Value::Number(1.0), Value::string("x")])), ("b", Value::Null),]
            ))
        );
        let wrapped = json!({"value": {"k": "v"}, "type": ["map", "string"]});
        assert_eq!(
            Value::from_json_typed(&wrapped, &Type::Dynamic).ok(),
            Some(Value::Map([("k".to_string(), Value::string("v"))].into()))
        );
    }

    #[test]
    fn to_json_numbers_and_unknown() {
        let v = Value::object([
            ("i", Value::Number(42.0)),
            ("neg", Value::Number(-7.0)),
            ("f", Value::Number(1.5)),
            ("big", Value::Number(1e300)),
            ("u", Value::Unknown),
            ("n", Value::Null),
            ("s", Value::Set(vec![Value::Bool(false)])),
        ]);
        let j = v.to_json();
        assert_eq!(j, json!({"i": 42, "neg": -7, "f": 1.5, "big": 1e300, "u": null, "n": null, "s": [false]}));
        assert!(j["i"].is_i64());
        assert!(j["big"].is_f64());
    }

    #[test]
    fn parse_decimal_cases() {
        assert_eq!(parse_decimal("12").ok(), Some(12.0));
        assert_eq!(parse_decimal("-1.5e3").ok(), Some(-1500.0));
        assert!(parse_decimal("").is_err());
        assert!(parse_decimal("inf").is_err());
        assert!(parse_decimal("1e999").is_err());
        assert!(parse_decimal("1-2").is_err());
    }

    #[test]
    fn infer_type_cases() {
        let v = Value::object([
            ("l", Value::List(vec![Value::Null, Value::string("a")])),
            ("m", Value::Map([("x".into(), Value::Number(1.0))].into())),
            ("mixed", Value::Set(vec![Value::Bool(true), Value::Number(1.0)])),
            ("e", Value::List(vec![])),
        ]);
        assert_eq!(
            v.infer_type(),
            Type::object([
                ("l", Type::list(Type::String)),
                ("m", Type::map(Type::Number)),
                ("mixed", Type::set(Type::Dynamic)),
                ("e", Type::list(Type::Dynamic)),
            ])
        );
    }
}
