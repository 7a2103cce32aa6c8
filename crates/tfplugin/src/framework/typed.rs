//! Typed state: resources work with plain Rust structs, converted to and from `Value` through
//! serde, so each resource file holds a struct instead of attribute look-ups.

use serde::de::DeserializeOwned;
use serde::Serialize;

use super::diag::Diagnostic;
use super::value::{Type, Value};

/// Reads a struct from a value; unknown and null attributes become `None`/defaults.
pub fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, Diagnostic> {
    serde_json::from_value(without_nulls(value.to_json())).map_err(|e| {
        Diagnostic::error(
            "Unexpected value shape",
            format!("The provider could not read a value it expected to understand ({e}). This is a bug in the provider; please report it."),
        )
    })
}

/// Drops null object members, so `#[serde(default)]` fields read unset attributes as empty.
fn without_nulls(json: serde_json::Value) -> serde_json::Value {
    match json {
        serde_json::Value::Object(map) => serde_json::Value::Object(
            map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect(),
        ),
        serde_json::Value::Array(items) => serde_json::Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// Writes a struct as a value of the schema's type (missing attributes become null).
pub fn to_value<T: Serialize>(model: &T, ty: &Type) -> Result<Value, Diagnostic> {
    let json = serde_json::to_value(model).map_err(|e| {
        Diagnostic::error("Cannot encode state", format!("{e}. This is a bug in the provider; please report it."))
    })?;
    Value::from_json_typed(&json, ty).map_err(|e| {
        Diagnostic::error("Cannot encode state", format!("{e}. This is a bug in the provider; please report it."))
    })
}

/// [`from_value`], recording a failure in `diags` instead of returning it.
pub fn model_or_report<T: DeserializeOwned>(value: &Value, diags: &mut super::Diagnostics) -> Option<T> {
    diags.ok(from_value(value))
}

/// [`to_value`], recording a failure in `diags` and giving Null.
pub fn state_or_report<T: Serialize>(model: &T, ty: &Type, diags: &mut super::Diagnostics) -> Value {
    diags.ok(to_value(model, ty)).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct Model {
        name: String,
        partitions: Option<i64>,
        #[serde(default)]
        tags: BTreeMap<String, String>,
    }

    #[test]
    fn structs_round_trip_through_values() {
        let ty =
            Type::object([("name", Type::String), ("partitions", Type::Number), ("tags", Type::map(Type::String))]);
        let m = Model { name: "a".into(), partitions: Some(3), tags: BTreeMap::from([("k".into(), "v".into())]) };
        let v = to_value(&m, &ty).unwrap();
        assert_eq!(v.get("partitions"), &Value::Number(3.0));
        assert_eq!(from_value::<Model>(&v).unwrap(), m);
    }

    #[test]
    fn unknown_attributes_read_as_none() {
        let mut v = Value::Object(BTreeMap::new());
        v.set("name", Value::string("a"));
        v.set("partitions", Value::Unknown);
        v.set("tags", Value::Null);
        let m: Model = from_value(&v).unwrap();
        assert_eq!(m.partitions, None);
    }
}
