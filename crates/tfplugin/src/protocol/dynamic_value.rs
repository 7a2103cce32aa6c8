//! DynamicValue codec: Terraform's msgpack (and JSON) encodings of values of a known type.
//!
//! Terraform sends and expects `DynamicValue`s as cty's msgpack encoding of a
//! value whose type both sides already know from the schema:
//!
//! - nil is null; any extension value (any code, any length) is unknown, which
//!   covers the refined-unknown encodings newer Terraform sends; unknown is
//!   written as fixext1 code 0 with data byte 0 (`d4 00 00`).
//! - numbers are read from any msgpack int or float, or from a string holding a
//!   decimal (cty's form for numbers an `f64` can't hold exactly); they are
//!   written as the smallest int when integral and within `i64`, else as f64.
//! - lists and sets are arrays; maps and objects are maps with string keys,
//!   written in sorted key order; an object is written with every attribute of
//!   its type (null where the value lacks it).
//! - the dynamic type is a two-element array: the value's cty JSON type (as
//!   bytes), then the value encoded with that type.
//!
//! The decoder is fed by Terraform but must also survive arbitrary bytes: it
//! reads through `rmpv` with a depth limit (rmpv never pre-allocates from
//! untrusted lengths), rejects trailing bytes, checks nesting against
//! [`MAX_DEPTH`], bounds the object attributes an input may leave out by its
//! size ([`OMITTED_ATTRIBUTES_SLACK`]), and reports mismatches as
//! [`CodecError`]s with a path.
use crate::framework::value::{
    f64_to_i64, parse_decimal, spend_omissions, CodecError, Type, Value, MAX_DEPTH, OMITTED_ATTRIBUTES_SLACK,
};
use std::collections::BTreeMap;

/// rmpv counts a nesting level twice (once for the value, once for its body),
/// and strings count too; this lets any value we'd accept through while still
/// bounding rmpv's own recursion.
const RMPV_MAX_DEPTH: usize = 2 * (MAX_DEPTH + 2) + 2;

/// Decodes a msgpack `DynamicValue` of type `ty`.
pub fn decode_msgpack(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let mut rest = bytes;
    let raw = rmpv::decode::read_value_with_max_depth(&mut rest, RMPV_MAX_DEPTH)
        .map_err(|e| CodecError::new(format!("invalid msgpack: {e}")))?;
    if !rest.is_empty() {
        return Err(CodecError::new(format!("{} unexpected bytes after the msgpack value", rest.len())));
    }
    let mut omissions = omission_budget(bytes);
    decode_value(&raw, ty, 0, &mut omissions)
}

/// How many object attributes an input of this size may leave out in all.
fn omission_budget(bytes: &[u8]) -> usize {
    bytes.len().saturating_add(OMITTED_ATTRIBUTES_SLACK)
}

/// Encodes `value` as a msgpack `DynamicValue` of type `ty`.
///
/// The type decides the encoding. List and set values are accepted
/// interchangeably for list and set types, as are map and object values for
/// map and object types, since both pairs share a wire form; any other
/// mismatch between value and type is an error.
pub fn encode_msgpack(value: &Value, ty: &Type) -> Result<Vec<u8>, CodecError> {
    let raw = encode_value(value, ty, 0)?;
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &raw).map_err(|e| CodecError::new(format!("msgpack write failed: {e}")))?;
    Ok(out)
}

/// Decodes a JSON `DynamicValue` of type `ty` (see [`Value::from_json_typed`]).
pub fn decode_json(bytes: &[u8], ty: &Type) -> Result<Value, CodecError> {
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| CodecError::new(format!("invalid JSON: {e}")))?;
    Value::from_json_typed_bounded(&json, ty, omission_budget(bytes))
}

/// A short name of a raw msgpack value's kind, for error messages.
fn raw_kind(raw: &rmpv::Value) -> &'static str {
    match raw {
        rmpv::Value::Nil => "nil",
        rmpv::Value::Boolean(_) => "bool",
        rmpv::Value::Integer(_) => "integer",
        rmpv::Value::F32(_) | rmpv::Value::F64(_) => "float",
        rmpv::Value::String(_) => "string",
        rmpv::Value::Binary(_) => "binary",
        rmpv::Value::Array(_) => "array",
        rmpv::Value::Map(_) => "map",
        rmpv::Value::Ext(_, _) => "extension",
    }
}

fn mismatch(ty: &Type, raw: &rmpv::Value) -> CodecError {
    CodecError::new(format!("expected {}, got {}", ty.kind_name(), raw_kind(raw)))
}

/// A msgpack map key, which cty always writes as a string.
fn key_str(key: &rmpv::Value) -> Result<&str, CodecError> {
    match key {
        rmpv::Value::String(s) => s.as_str().ok_or_else(|| CodecError::new("map key is not valid UTF-8")),
        other => Err(CodecError::new(format!("map key must be a string, got {}", raw_kind(other)))),
    }
}

fn decode_number(raw: &rmpv::Value) -> Result<Value, CodecError> {
    let n = match raw {
        rmpv::Value::Integer(i) => i
            .as_i64()
            .map(|n| n as f64)
            .or_else(|| i.as_u64().map(|n| n as f64))
            .ok_or_else(|| CodecError::new("integer out of range"))?,
        rmpv::Value::F32(f) => f64::from(*f),
        rmpv::Value::F64(f) => *f,
        rmpv::Value::String(s) => {
            let text = s.as_str().ok_or_else(|| CodecError::new("number string is not valid UTF-8"))?;
            parse_decimal(text)?
        }
        other => return Err(mismatch(&Type::Number, other)),
    };
    // cty has no NaN; letting one in would break equality everywhere downstream.
    if n.is_nan() {
        return Err(CodecError::new("number is NaN"));
    }
    Ok(Value::Number(n))
}

/// `omissions` is what is left of the budget of omitted attributes.
fn decode_value(raw: &rmpv::Value, ty: &Type, depth: usize, omissions: &mut usize) -> Result<Value, CodecError> {
    if depth > MAX_DEPTH {
        return Err(CodecError::new("value nests too deeply"));
    }
    match raw {
        rmpv::Value::Nil => return Ok(Value::Null),
        // Every extension is some form of unknown: code 0 is the classic one,
        // others (e.g. 12) carry refinements we don't need.
        rmpv::Value::Ext(_, _) => return Ok(Value::Unknown),
        _ => {}
    }
    match (ty, raw) {
        (Type::Bool, rmpv::Value::Boolean(b)) => Ok(Value::Bool(*b)),
        (Type::Number, _) => decode_number(raw),
        (Type::String, rmpv::Value::String(s)) => {
            s.as_str().map(Value::string).ok_or_else(|| CodecError::new("string is not valid UTF-8"))
        }
        (Type::List(el) | Type::Set(el), rmpv::Value::Array(items)) => {
            let mut out = Vec::new();
            for (i, item) in items.iter().enumerate() {
                out.push(decode_value(item, el, depth + 1, omissions).map_err(|e| e.in_index(i))?);
            }
            Ok(if matches!(ty, Type::List(_)) { Value::List(out) } else { Value::Set(out) })
        }
        (Type::Map(el), rmpv::Value::Map(pairs)) => {
            let mut out = BTreeMap::new();
            for (k, v) in pairs {
                let key = key_str(k)?;
                let v = decode_value(v, el, depth + 1, omissions).map_err(|e| e.in_key(key))?;
                if out.insert(key.to_string(), v).is_some() {
                    return Err(CodecError::new("duplicate map key").in_key(key));
                }
            }
            Ok(Value::Map(out))
        }
        (Type::Object(attrs), rmpv::Value::Map(pairs)) => {
            let mut out = BTreeMap::new();
            for (k, v) in pairs {
                let name = key_str(k)?;
                let aty = attrs.get(name).ok_or_else(|| CodecError::new(format!("unsupported attribute {name:?}")))?;
                let v = decode_value(v, aty, depth + 1, omissions).map_err(|e| e.in_attr(name))?;
                if out.insert(name.to_string(), v).is_some() {
                    return Err(CodecError::new("duplicate attribute").in_attr(name));
                }
            }
            // Attributes the encoding left out are null, within the budget (every key
            // in `out` is an attribute, checked above, and appears once).
            spend_omissions(omissions, attrs.len() - out.len())?;
            for name in attrs.keys() {
                out.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(out))
        }
        (Type::Dynamic, rmpv::Value::Array(parts)) => match parts.as_slice() {
            [type_json, inner] => {
                let ty = decode_type_json(type_json)?;
                decode_value(inner, &ty, depth + 1, omissions)
            }
            _ => Err(CodecError::new(format!(
                "dynamic value must be a [type, value] pair, got {} elements",
                parts.len()
            ))),
        },
        _ => Err(mismatch(ty, raw)),
    }
}

/// The type half of a dynamic value: cty JSON type text, as bin (what cty
/// writes) or str.
fn decode_type_json(raw: &rmpv::Value) -> Result<Type, CodecError> {
    let bytes = match raw {
        rmpv::Value::Binary(b) => b.as_slice(),
        rmpv::Value::String(s) => s.as_bytes(),
        other => return Err(CodecError::new(format!("dynamic value's type must be bytes, got {}", raw_kind(other)))),
    };
    let json: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| CodecError::new(format!("dynamic value's type is not JSON: {e}")))?;
    Type::from_json(&json)
}

fn encode_value(value: &Value, ty: &Type, depth: usize) -> Result<rmpv::Value, CodecError> {
    if depth > MAX_DEPTH {
        return Err(CodecError::new("value nests too deeply"));
    }
    let mismatch = || CodecError::new(format!("expected {}, got {}", ty.kind_name(), value.kind_name()));
    match (ty, value) {
        // rmpv writes a one-byte ext as fixext1: `d4 00 00`, cty's unknown.
        (_, Value::Unknown) => Ok(rmpv::Value::Ext(0, vec![0])),
        (_, Value::Null) => Ok(rmpv::Value::Nil),
        (Type::Bool, Value::Bool(b)) => Ok(rmpv::Value::Boolean(*b)),
        // rmpv writes integers in their smallest encoding, as cty does.
        (Type::Number, Value::Number(n)) => Ok(match f64_to_i64(*n) {
            Some(i) => rmpv::Value::from(i),
            None => rmpv::Value::F64(*n),
        }),
        (Type::String, Value::String(s)) => Ok(rmpv::Value::from(s.as_str())),
        (Type::List(el) | Type::Set(el), Value::List(items) | Value::Set(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                out.push(encode_value(item, el, depth + 1).map_err(|e| e.in_index(i))?);
            }
            Ok(rmpv::Value::Array(out))
        }
        (Type::Map(el), Value::Map(entries) | Value::Object(entries)) => {
            let mut out = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                let v = encode_value(v, el, depth + 1).map_err(|e| e.in_key(k))?;
                out.push((rmpv::Value::from(k.as_str()), v));
            }
            Ok(rmpv::Value::Map(out))
        }
        (Type::Object(attrs), Value::Object(fields) | Value::Map(fields)) => {
            if let Some(extra) = fields.keys().find(|k| !attrs.contains_key(*k)) {
                return Err(CodecError::new(format!("unsupported attribute {extra:?}")));
            }
            let mut out = Vec::with_capacity(attrs.len());
            for (name, aty) in attrs {
                let v = match fields.get(name) {
                    Some(v) => encode_value(v, aty, depth + 1).map_err(|e| e.in_attr(name))?,
                    None => rmpv::Value::Nil,
                };
                out.push((rmpv::Value::from(name.as_str()), v));
            }
            Ok(rmpv::Value::Map(out))
        }
        (Type::Dynamic, _) => {
            let concrete = value.infer_type();
            let type_json = serde_json::to_vec(&concrete.to_json())
                .map_err(|e| CodecError::new(format!("type JSON failed: {e}")))?;
            let inner = encode_value(value, &concrete, depth + 1)?;
            Ok(rmpv::Value::Array(vec![rmpv::Value::Binary(type_json), inner]))
        }
        _ => Err(mismatch()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The fixext1 code-0 encoding of an unknown value, as cty writes it.
    const UNKNOWN_BYTES: [u8; 3] = [0xd4, 0x00, 0x00];

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::object(pairs.iter().map(|(k, v)| (*k, v.clone())))
    }

    fn map(pairs: &[(&str, Value)]) -> Value {
        Value::Map(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn enc(v: &Value, ty: &Type) -> Vec<u8> {
        match encode_msgpack(v, ty) {
            Ok(b) => b,
            Err(e) => panic!("encode failed: {e}"),
        }
    }

    fn dec(bytes: &[u8], ty: &Type) -> Value {
        match decode_msgpack(bytes, ty) {
            Ok(v) => v,
            Err(e) => panic!("decode failed: {e}"),
        }
    }

    fn dec_err(bytes: &[u8], ty: &Type) -> CodecError {
        match decode_msgpack(bytes, ty) {
            Ok(v) => panic!("expected an error, decoded {v:?}"),
            Err(e) => e,
        }
    }

    /// msgpack fixstr for short ASCII strings.
    fn fixstr(s: &str) -> Vec<u8> {
        let mut out = vec![0xa0 | s.len() as u8];
        out.extend_from_slice(s.as_bytes());
        out
    }

    #[test]
    fn unknown_is_d4_00_00() {
        for ty in
            [Type::String, Type::Number, Type::list(Type::Bool), Type::object([("a", Type::String)]), Type::Dynamic]
        {
            assert_eq!(enc(&Value::Unknown, &ty), UNKNOWN_BYTES.to_vec());
            assert_eq!(dec(&UNKNOWN_BYTES, &ty), Value::Unknown);
        }
    }

    #[test]
    fn any_extension_is_unknown() {
        let refined = [0xc7, 0x03, 0x0c, 0x81, 0x01, 0xc3]; // ext8, code 12, {1: true}
        let fixext_12 = [0xd4, 0x0c, 0x00];
        let empty_ext = [0xc7, 0x00, 0x0c];
        let ext_neg = [0xd5, 0xff, 0x01, 0x02];
        for bytes in [&refined[..], &fixext_12, &empty_ext, &ext_neg] {
            for ty in [
                Type::String,
                Type::Number,
                Type::map(Type::String),
                Type::object([("a", Type::String)]),
                Type::Dynamic,
            ] {
                assert_eq!(dec(bytes, &ty), Value::Unknown, "{bytes:02x?} as {ty:?}");
            }
        }
        // Inside an object, too.
        let mut bytes = vec![0x81];
        bytes.extend(fixstr("id"));
        bytes.extend(refined);
        let ty = Type::object([("id", Type::String)]);
        assert_eq!(dec(&bytes, &ty), obj(&[("id", Value::Unknown)]));
    }

    #[test]
    fn null_is_nil() {
        assert_eq!(enc(&Value::Null, &Type::String), vec![0xc0]);
        assert_eq!(enc(&Value::Null, &Type::Dynamic), vec![0xc0]);
        assert_eq!(dec(&[0xc0], &Type::object([])), Value::Null);
        assert_eq!(dec(&[0xc0], &Type::Dynamic), Value::Null);
    }

    #[test]
    fn small_ints_use_smallest_encoding() {
        let cases: &[(f64, &[u8])] = &[
            (0.0, &[0x00]),
            (5.0, &[0x05]),
            (127.0, &[0x7f]),
            (-1.0, &[0xff]),
            (-32.0, &[0xe0]),
            (200.0, &[0xcc, 0xc8]),
            (-200.0, &[0xd1, 0xff, 0x38]),
            (65535.0, &[0xcd, 0xff, 0xff]),
            (9_007_199_254_740_992.0, &[0xcf, 0x00, 0x20, 0, 0, 0, 0, 0, 0]),
        ];
        for (n, bytes) in cases {
            assert_eq!(enc(&Value::Number(*n), &Type::Number), bytes.to_vec(), "{n}");
            assert_eq!(dec(bytes, &Type::Number), Value::Number(*n));
        }
    }

    #[test]
    fn non_integral_numbers_are_f64() {
        let mut expected = vec![0xcb];
        expected.extend(1.5f64.to_be_bytes());
        assert_eq!(enc(&Value::Number(1.5), &Type::Number), expected);
        // Integral but beyond i64: float too.
        let mut expected = vec![0xcb];
        expected.extend(1e300f64.to_be_bytes());
        assert_eq!(enc(&Value::Number(1e300), &Type::Number), expected);
    }

    #[test]
    fn numbers_decode_from_every_msgpack_number() {
        let cases: &[(&[u8], f64)] = &[
            (&[0xd0, 0xff], -1.0),
            (&[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], -9_223_372_036_854_775_808.0),
            (&[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 18_446_744_073_709_551_615.0),
            (&[0xca, 0x3f, 0xc0, 0x00, 0x00], 1.5),
            (&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0], 1.5),
        ];
        for (bytes, n) in cases {
            assert_eq!(dec(bytes, &Type::Number), Value::Number(*n), "{bytes:02x?}");
        }
        // NaN isn't a cty number.
        let mut nan = vec![0xcb];
        nan.extend(f64::NAN.to_be_bytes());
        assert!(decode_msgpack(&nan, &Type::Number).is_err());
    }

    #[test]
    fn big_number_string() {
        let text = "12345678901234567890123";
        let mut bytes = vec![0xa0 | text.len() as u8];
        bytes.extend_from_slice(text.as_bytes());
        assert_eq!(dec(&bytes, &Type::Number), Value::Number(1.234_567_890_123_456_8e22));
        assert_eq!(dec(&fixstr("-0.25"), &Type::Number), Value::Number(-0.25));
        assert!(decode_msgpack(&fixstr("abc"), &Type::Number).is_err());
        assert!(decode_msgpack(&fixstr("NaN"), &Type::Number).is_err());
        assert!(decode_msgpack(&fixstr(""), &Type::Number).is_err());
    }

    fn instance_type() -> Type {
        Type::object([
            ("count", Type::Number),
            ("enabled", Type::Bool),
            ("id", Type::String),
            ("name", Type::String),
            ("ports", Type::set(Type::Number)),
            ("tags", Type::map(Type::String)),
        ])
    }

    /// What Terraform sends for
    /// `{count = 3, enabled = true, id = (known after apply), name = "foo",
    ///   ports = [80, 443], tags = {env = "dev"}}`.
    fn instance_bytes() -> Vec<u8> {
        let mut b = vec![0x86];
        b.extend(fixstr("count"));
        b.push(0x03);
        b.extend(fixstr("enabled"));
        b.push(0xc3);
        b.extend(fixstr("id"));
        b.extend(UNKNOWN_BYTES);
        b.extend(fixstr("name"));
        b.extend(fixstr("foo"));
        b.extend(fixstr("ports"));
        b.extend([0x92, 0x50, 0xcd, 0x01, 0xbb]);
        b.extend(fixstr("tags"));
        b.push(0x81);
        b.extend(fixstr("env"));
        b.extend(fixstr("dev"));
        b
    }

    fn instance_value() -> Value {
        obj(&[
            ("count", Value::Number(3.0)),
            ("enabled", Value::Bool(true)),
            ("id", Value::Unknown),
            ("name", Value::string("foo")),
            ("ports", Value::Set(vec![Value::Number(80.0), Value::Number(443.0)])),
            ("tags", map(&[("env", Value::string("dev"))])),
        ])
    }

    #[test]
    fn known_terraform_object() {
        assert_eq!(dec(&instance_bytes(), &instance_type()), instance_value());
        assert_eq!(enc(&instance_value(), &instance_type()), instance_bytes());
        let decoded = dec(&instance_bytes(), &instance_type());
        assert!(matches!(decoded.get("tags"), Value::Map(_)));
        assert!(matches!(decoded.get("ports"), Value::Set(_)));
    }

    #[test]
    fn object_attributes_sorted_and_complete() {
        let ty = Type::object([("b", Type::String), ("a", Type::String)]);
        // Value lacks "a": it's still written, as nil, and keys come out sorted.
        let bytes = enc(&obj(&[("b", Value::string("x"))]), &ty);
        let mut expected = vec![0x82];
        expected.extend(fixstr("a"));
        expected.push(0xc0);
        expected.extend(fixstr("b"));
        expected.extend(fixstr("x"));
        assert_eq!(bytes, expected);
    }

    #[test]
    fn missing_attributes_decode_as_null() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let mut bytes = vec![0x81];
        bytes.extend(fixstr("a"));
        bytes.extend(fixstr("x"));
        assert_eq!(dec(&bytes, &ty), obj(&[("a", Value::string("x")), ("b", Value::Null)]));
        assert_eq!(dec(&[0x80], &ty), obj(&[("a", Value::Null), ("b", Value::Null)]));
    }

    #[test]
    fn extra_attributes_are_errors() {
        let ty = Type::object([("a", Type::String)]);
        let mut bytes = vec![0x81];
        bytes.extend(fixstr("zz"));
        bytes.push(0xc0);
        assert!(dec_err(&bytes, &ty).message.contains("zz"));
        let e = encode_msgpack(&obj(&[("zz", Value::Null)]), &ty);
        assert!(e.is_err());
    }

    #[test]
    fn type_mismatch_reports_path() {
        let ty = Type::object([("tags", Type::map(Type::String))]);
        let mut bytes = vec![0x81];
        bytes.extend(fixstr("tags"));
        bytes.push(0x81);
        bytes.extend(fixstr("a"));
        bytes.push(0x05);
        let e = dec_err(&bytes, &ty);
        assert_eq!(e.to_string(), r#"expected string, got integer at .tags["a"]"#);
        assert_eq!(e.path, vec!["tags".to_string(), r#"["a"]"#.to_string()]);

        let v = obj(&[("tags", map(&[("a", Value::Number(5.0))]))]);
        let e = encode_msgpack(&v, &ty).err();
        assert_eq!(e.map(|e| e.to_string()).as_deref(), Some(r#"expected string, got number at .tags["a"]"#));

        let ty = Type::object([("a", Type::object([("b", Type::list(Type::Bool))]))]);
        let v = obj(&[("a", obj(&[("b", Value::List(vec![Value::Bool(true), Value::string("no")]))]))]);
        let e = encode_msgpack(&v, &ty).err();
        assert_eq!(e.map(|e| e.path_string()).as_deref(), Some(".a.b[1]"));
        let mut bytes = vec![0x81];
        bytes.extend(fixstr("a"));
        bytes.push(0x81);
        bytes.extend(fixstr("b"));
        bytes.extend([0x92, 0xc3, 0x01]);
        assert_eq!(dec_err(&bytes, &ty).path_string(), ".a.b[1]");
    }

    #[test]
    fn list_and_set_and_map() {
        let ty = Type::list(Type::String);
        let v = Value::List(vec![Value::string("a"), Value::Null, Value::Unknown]);
        let bytes = enc(&v, &ty);
        let mut expected = vec![0x93];
        expected.extend(fixstr("a"));
        expected.extend([0xc0, 0xd4, 0x00, 0x00]);
        assert_eq!(bytes, expected);
        assert_eq!(dec(&bytes, &ty), v);
        assert_eq!(
            dec(&bytes, &Type::set(Type::String)),
            Value::Set(vec![Value::Unknown, Value::string("a"), Value::Null])
        );
        // Map keys come out sorted.
        let m = map(&[("z", Value::Bool(false)), ("a", Value::Bool(true))]);
        let bytes = enc(&m, &Type::map(Type::Bool));
        let mut expected = vec![0x82];
        expected.extend(fixstr("a"));
        expected.push(0xc3);
        expected.extend(fixstr("z"));
        expected.push(0xc2);
        assert_eq!(bytes, expected);
    }

    #[test]
    fn map_key_problems() {
        let ty = Type::map(Type::Bool);
        // Integer key.
        assert!(decode_msgpack(&[0x81, 0x01, 0xc3], &ty).is_err());
        // Duplicate key.
        let mut bytes = vec![0x82];
        bytes.extend(fixstr("a"));
        bytes.push(0xc3);
        bytes.extend(fixstr("a"));
        bytes.push(0xc2);
        assert!(dec_err(&bytes, &ty).message.contains("duplicate"));
        // Invalid UTF-8 string value and key.
        assert!(decode_msgpack(&[0xa2, 0xff, 0xfe], &Type::String).is_err());
        assert!(decode_msgpack(&[0x81, 0xa1, 0xff, 0xc3], &ty).is_err());
    }

    #[test]
    fn dynamic_values() {
        // ["string" as bin, "foo"]: cty's own encoding.
        let mut bytes = vec![0x92, 0xc4, 0x08];
        bytes.extend(b"\"string\"");
        bytes.extend(fixstr("foo"));
        assert_eq!(enc(&Value::string("foo"), &Type::Dynamic), bytes);
        assert_eq!(dec(&bytes, &Type::Dynamic), Value::string("foo"));
        // Type as str is accepted too.
        let mut as_str = vec![0x92, 0xa8];
        as_str.extend(b"\"string\"");
        as_str.extend(fixstr("foo"));
        assert_eq!(dec(&as_str, &Type::Dynamic), Value::string("foo"));

        let v = obj(&[
            ("n", Value::Number(1.0)),
            ("l", Value::List(vec![Value::string("a"), Value::Null])),
            ("m", map(&[("k", Value::Bool(true))])),
            ("s", Value::Set(vec![Value::Number(2.0), Value::string("x")])),
            ("u", Value::Unknown),
        ]);
        let bytes = enc(&v, &Type::Dynamic);
        assert_eq!(dec(&bytes, &Type::Dynamic), v);

        // A dynamic attribute in a schema object.
        let ty = Type::object([("extra", Type::Dynamic), ("id", Type::String)]);
        let v = obj(&[("extra", Value::Number(7.0)), ("id", Value::string("x"))]);
        let mut expected = vec![0x82];
        expected.extend(fixstr("extra"));
        expected.extend([0x92, 0xc4, 0x08]);
        expected.extend(b"\"number\"");
        expected.push(0x07);
        expected.extend(fixstr("id"));
        expected.extend(fixstr("x"));
        assert_eq!(enc(&v, &ty), expected);
        assert_eq!(dec(&expected, &ty), v);
    }

    #[test]
    fn dynamic_errors() {
        // Wrong arity, bad type JSON, unsupported type.
        assert!(decode_msgpack(&[0x91, 0xc0], &Type::Dynamic).is_err());
        assert!(decode_msgpack(&[0x92, 0xc4, 0x01, b'{', 0xc0], &Type::Dynamic).is_err());
        let mut bytes = vec![0x92, 0xa7];
        bytes.extend(b"\"float\"");
        bytes.push(0x01);
        assert!(decode_msgpack(&bytes, &Type::Dynamic).is_err());
        assert!(decode_msgpack(&[0x05], &Type::Dynamic).is_err());
    }

    #[test]
    fn malformed_input_is_an_error() {
        let ty = Type::object([("a", Type::list(Type::String))]);
        // (rmpv reads the never-used marker 0xc1 as nil, so it isn't listed.)
        for bytes in [
            &[][..],
            &[0xdd, 0xff, 0xff, 0xff, 0xff],       // array32 claiming 4G elements
            &[0xdb, 0xff, 0xff, 0xff, 0xff],       // str32 claiming 4 GiB
            &[0xdf, 0xff, 0xff, 0xff, 0xff],       // map32 claiming 4G entries
            &[0xc9, 0xff, 0xff, 0xff, 0xff, 0x01], // ext32 claiming 4 GiB
            &[0x81, 0xa1],                         // truncated
            &[0xc0, 0xc0],                         // trailing bytes
        ] {
            assert!(decode_msgpack(bytes, &ty).is_err(), "{bytes:02x?}");
            assert!(decode_msgpack(bytes, &Type::Dynamic).is_err(), "{bytes:02x?}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected() {
        // Deep enough to fail our limit but fine for rmpv.
        let mut ty = Type::String;
        for _ in 0..(MAX_DEPTH + 2) {
            ty = Type::list(ty);
        }
        let mut bytes = vec![0x91; MAX_DEPTH + 2];
        bytes.extend(fixstr("x"));
        assert!(decode_msgpack(&bytes, &ty).is_err());
        // Far deeper than anything: must fail cleanly, not overflow the stack.
        let mut bytes = vec![0x91; 100_000];
        bytes.push(0xc0);
        assert!(decode_msgpack(&bytes, &ty).is_err());
        assert!(decode_msgpack(&bytes, &Type::Dynamic).is_err());
        // Nesting within the limit works.
        let mut ty = Type::String;
        for _ in 0..10 {
            ty = Type::list(ty);
        }
        let mut bytes = vec![0x91; 10];
        bytes.extend(fixstr("x"));
        assert!(decode_msgpack(&bytes, &ty).is_ok());
    }

    /// Issue 5 (fuzzing): empty maps where objects of many attributes belong decoded into a
    /// null per attribute, so 49 KB of msgpack or 89 KB of JSON took more than 2 GB, and 1 MB
    /// of a data source's configuration several GB.
    #[test]
    fn leaving_out_more_attributes_than_the_input_pays_for_is_refused() {
        let wide: Vec<(String, Type)> = (0..300).map(|i| (format!("a{i}"), Type::Bool)).collect();
        let wide = Type::Object(wide.into_iter().collect());
        let type_json = serde_json::to_vec(&Type::list(wide.clone()).to_json()).unwrap_or_default();
        let dynamic = |elements: usize| {
            let mut b = vec![0x92, 0xc5];
            b.extend((type_json.len() as u16).to_be_bytes());
            b.extend(&type_json);
            b.push(0xdc);
            b.extend((elements as u16).to_be_bytes());
            b.extend(std::iter::repeat_n(0x80, elements));
            b
        };
        // A few such objects are fine; 60 leave out 18,000 attributes for 4 KB.
        assert_eq!(dec(&dynamic(3), &Type::Dynamic).elements().len(), 3);
        let e = dec_err(&dynamic(60), &Type::Dynamic);
        assert!(e.message.contains("leaves out"), "{e}");

        // The same with a schema's own type, and in JSON.
        let mut b = vec![0xdc];
        b.extend(6000u16.to_be_bytes());
        b.extend(std::iter::repeat_n(0x80, 6000));
        assert!(dec_err(&b, &Type::list(instance_type())).message.contains("leaves out"));
        let json = serde_json::to_vec(&vec![serde_json::json!({}); 3000]).unwrap_or_default();
        assert!(decode_json(&json, &Type::list(instance_type())).is_err());
        assert!(decode_json(b"[{},{}]", &Type::list(instance_type())).is_ok());
        let wrapped = serde_json::json!({"value": vec![serde_json::json!({}); 60], "type": Type::list(wide).to_json()});
        let e = decode_json(&serde_json::to_vec(&wrapped).unwrap_or_default(), &Type::Dynamic).err();
        assert!(e.is_some_and(|e| e.message.contains("leaves out")));
    }

    #[test]
    fn json_decoding() {
        let ty = instance_type();
        let text = br#"{"count":3,"enabled":true,"id":null,"name":"foo","ports":[80,443],"tags":{"env":"dev"}}"#;
        let mut expected = instance_value();
        expected.set("id", Value::Null);
        match decode_json(text, &ty) {
            Ok(v) => assert_eq!(v, expected),
            Err(e) => panic!("{e}"),
        }
        assert!(decode_json(b"{", &ty).is_err());
        assert!(decode_json(br#"{"tags":{"a":[]}}"#, &ty).is_err());
        assert_eq!(decode_json(b"null", &ty).ok(), Some(Value::Null));
    }

    // ---- property tests ----

    fn arb_type(depth: u32, allow_dynamic: bool) -> BoxedStrategy<Type> {
        let leaf = if allow_dynamic {
            prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String), Just(Type::Dynamic)].boxed()
        } else {
            prop_oneof![Just(Type::Bool), Just(Type::Number), Just(Type::String)].boxed()
        };
        if depth == 0 {
            return leaf;
        }
        let inner = arb_type(depth - 1, allow_dynamic);
        prop_oneof![
            3 => leaf,
            1 => inner.clone().prop_map(Type::list),
            1 => inner.clone().prop_map(Type::set),
            1 => inner.clone().prop_map(Type::map),
            2 => prop::collection::btree_map("[a-z_]{1,6}", inner, 0..5).prop_map(Type::Object),
        ]
        .boxed()
    }

    fn arb_number() -> BoxedStrategy<f64> {
        prop_oneof![
            any::<i8>().prop_map(f64::from),
            any::<i32>().prop_map(f64::from),
            any::<i64>().prop_map(|n| n as f64),
            any::<u64>().prop_map(|n| n as f64),
            -1e6..1e6f64,
            prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO,
        ]
        .boxed()
    }

    /// A value of `ty`, with null and unknown leaves anywhere (unknowns only
    /// when `unknowns`). `dyn_budget` bounds how many dynamic types may nest.
    fn arb_value(ty: &Type, unknowns: bool, dyn_budget: u32) -> BoxedStrategy<Value> {
        let known: BoxedStrategy<Value> = match ty {
            Type::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
            Type::Number => arb_number().prop_map(Value::Number).boxed(),
            Type::String => "\\PC{0,10}".prop_map(Value::String).boxed(),
            Type::List(el) => {
                prop::collection::vec(arb_value(el, unknowns, dyn_budget), 0..4).prop_map(Value::List).boxed()
            }
            Type::Set(el) => {
                prop::collection::vec(arb_value(el, unknowns, dyn_budget), 0..4).prop_map(Value::Set).boxed()
            }
            Type::Map(el) => prop::collection::btree_map("\\PC{0,6}", arb_value(el, unknowns, dyn_budget), 0..4)
                .prop_map(Value::Map)
                .boxed(),
            Type::Object(attrs) => {
                let fields: Vec<BoxedStrategy<(String, Value)>> = attrs
                    .iter()
                    .map(|(name, aty)| {
                        let name = name.clone();
                        arb_value(aty, unknowns, dyn_budget).prop_map(move |v| (name.clone(), v)).boxed()
                    })
                    .collect();
                fields.prop_map(|pairs| Value::Object(pairs.into_iter().collect())).boxed()
            }
            Type::Dynamic => {
                let depth = if dyn_budget == 0 { 0 } else { 2 };
                let next = dyn_budget.saturating_sub(1);
                arb_type(depth, next > 0).prop_flat_map(move |t| arb_value(&t, unknowns, next)).boxed()
            }
        };
        if unknowns {
            prop_oneof![1 => Just(Value::Null), 1 => Just(Value::Unknown), 6 => known].boxed()
        } else {
            prop_oneof![1 => Just(Value::Null), 6 => known].boxed()
        }
    }

    fn arb_typed_value() -> impl Strategy<Value = (Type, Value)> {
        arb_type(3, true).prop_flat_map(|ty| {
            let values = arb_value(&ty, true, 2);
            (Just(ty), values)
        })
    }

    /// Equality up to float rounding in the last place (positional for sets,
    /// since JSON keeps their order).
    fn nearly_equal(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) => {
                // Relative for normal numbers; absolute for subnormals, which
                // the same parser rounds more coarsely.
                let tolerance = (x.abs().max(y.abs()) * 4.0 * f64::EPSILON).max(f64::MIN_POSITIVE);
                x == y || (x - y).abs() <= tolerance
            }
            (Value::List(xs), Value::List(ys)) | (Value::Set(xs), Value::Set(ys)) => {
                xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| nearly_equal(x, y))
            }
            (Value::Map(xs), Value::Map(ys)) | (Value::Object(xs), Value::Object(ys)) => {
                xs.len() == ys.len() && xs.iter().zip(ys).all(|((kx, x), (ky, y))| kx == ky && nearly_equal(x, y))
            }
            _ => a == b,
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn msgpack_roundtrip((ty, v) in arb_typed_value()) {
            let bytes = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = decode_msgpack(&bytes, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&back, &v);
            // Decoding keeps element order, so re-encoding is byte-identical.
            let again = encode_msgpack(&back, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(again, bytes);
        }

        #[test]
        fn json_roundtrip(
            (ty, v) in arb_type(3, false)
                .prop_flat_map(|ty| { let vs = arb_value(&ty, false, 0); (Just(ty), vs) })
        ) {
            let text = serde_json::to_vec(&v.to_json()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let back = decode_json(&text, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            // serde_json's default float parser may be off by one ulp.
            prop_assert!(nearly_equal(&back, &v), "{:?} != {:?}", back, v);
            let direct = Value::from_json_typed(&v.to_json(), &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(direct, v);
        }

        #[test]
        fn decode_arbitrary_bytes_never_panics(
            bytes in prop::collection::vec(any::<u8>(), 0..256),
            ty in arb_type(3, true),
        ) {
            let _ = decode_msgpack(&bytes, &ty);
            let _ = decode_msgpack(&bytes, &Type::Dynamic);
            let _ = decode_json(&bytes, &ty);
        }

        #[test]
        fn decode_mutated_encodings_never_panics(
            (ty, v) in arb_typed_value(),
            edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
        ) {
            let mut bytes = encode_msgpack(&v, &ty).map_err(|e| TestCaseError::fail(e.to_string()))?;
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            let _ = decode_msgpack(&bytes, &ty);
            let _ = decode_msgpack(&bytes, &Type::Dynamic);
            let keep = cut.index(bytes.len() + 1);
            let _ = decode_msgpack(&bytes[..keep], &ty);
        }
    }
}
