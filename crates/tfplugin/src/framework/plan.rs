//! Generic planning rules shared by every resource: defaults, prior values for computed
//! attributes, unknowns on create, and which changes force replacement.

use super::diag::AttrPath;
use super::schema::Schema;
use super::value::Value;

/// The planned state before the resource's own adjustments.
pub fn plan_defaults(schema: &Schema, prior: &Value, config: &Value, proposed: &Value) -> Value {
    let mut planned = proposed.clone();
    for attr in &schema.block.attributes {
        if !attr.computed || !config.get(&attr.name).is_null() {
            continue;
        }
        let value = match (&attr.default, prior.is_null()) {
            (Some(default), _) => default.clone(),
            (None, true) => Value::Unknown,
            // Computed values survive updates unless the resource says otherwise.
            (None, false) => prior.get(&attr.name).clone(),
        };
        planned.set(&attr.name, value);
    }
    planned
}

/// The attributes whose change replaces the resource.
pub fn requires_replace(schema: &Schema, prior: &Value, planned: &Value) -> Vec<AttrPath> {
    if prior.is_null() || planned.is_null() {
        return Vec::new();
    }
    schema
        .block
        .attributes
        .iter()
        .filter(|a| a.requires_replace)
        .filter(|a| {
            let new = planned.get(&a.name);
            new.is_unknown() || new != prior.get(&a.name)
        })
        .map(|a| AttrPath::attr(&a.name))
        .collect()
}

/// Fills unset attributes that have defaults, so an imported or refreshed state plans clean.
pub fn fill_defaults(schema: &Schema, state: &mut Value) {
    if state.is_null() {
        return;
    }
    for attr in &schema.block.attributes {
        if let Some(default) = &attr.default {
            if state.get(&attr.name).is_null() {
                state.set(&attr.name, default.clone());
            }
        }
    }
}

/// Nulls every write-only attribute of `state`: Terraform refuses a plan or state that holds one.
pub fn null_write_only(schema: &Schema, state: &mut Value) {
    if state.is_null() {
        return;
    }
    for attr in schema.block.attributes.iter().filter(|a| a.write_only) {
        state.set(&attr.name, Value::Null);
    }
}

/// Copies the write-only attributes' values from `config` into `planned`, so that create and
/// update see them (Terraform sends them in the configuration only).
pub fn with_write_only(schema: &Schema, config: &Value, planned: &mut Value) {
    if planned.is_null() || config.is_null() {
        return;
    }
    for attr in schema.block.attributes.iter().filter(|a| a.write_only) {
        planned.set(&attr.name, config.get(&attr.name).clone());
    }
}

/// The write-only attributes set in `config`, for a client that cannot keep them out of state
/// (Terraform < 1.11 does not announce `write_only_attributes_allowed`).
pub fn write_only_set<'a>(schema: &'a Schema, config: &Value) -> Vec<&'a str> {
    schema
        .block
        .attributes
        .iter()
        .filter(|a| a.write_only && !config.get(&a.name).is_null())
        .map(|a| a.name.as_str())
        .collect()
}

/// Replaces every unknown left in `state` with null: after apply nothing may stay unknown.
pub fn unknowns_to_null(state: &mut Value) {
    match state {
        Value::Unknown => *state = Value::Null,
        Value::List(items) | Value::Set(items) => items.iter_mut().for_each(unknowns_to_null),
        Value::Map(m) | Value::Object(m) => m.values_mut().for_each(unknowns_to_null),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_only_values_reach_apply_but_never_plan_or_state() {
        let schema = Schema::new(Block::new(
            "",
            vec![
                Attribute::required("name", Type::String, ""),
                Attribute::optional("password_wo", Type::String, "").write_only(),
            ],
        ));
        let config = Value::object([("name", Value::string("a")), ("password_wo", Value::string("s3cret"))]);
        assert_eq!(write_only_set(&schema, &config), vec!["password_wo"]);
        let mut planned = config.clone();
        null_write_only(&schema, &mut planned);
        assert!(planned.get("password_wo").is_null(), "never planned");
        assert_eq!(planned.get("name"), &Value::string("a"));
        with_write_only(&schema, &config, &mut planned);
        assert_eq!(planned.get("password_wo"), &Value::string("s3cret"), "create and update see it");
        let unset = Value::object([("name", Value::string("a")), ("password_wo", Value::Null)]);
        assert!(write_only_set(&schema, &unset).is_empty());
    }
    use crate::framework::schema::{Attribute, Block};
    use crate::framework::value::Type;

    fn schema() -> Schema {
        Schema::new(Block::new(
            "",
            vec![
                Attribute::required("name", Type::String, "").replace(),
                Attribute::optional("partitions", Type::Number, "").default(Value::Number(3.0)),
                Attribute::computed("id", Type::String, ""),
            ],
        ))
    }

    fn obj(pairs: &[(&str, Value)]) -> Value {
        Value::Object(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn create_plans_defaults_and_unknown_computed_values() {
        let config = obj(&[("name", Value::string("a")), ("partitions", Value::Null), ("id", Value::Null)]);
        let planned = plan_defaults(&schema(), &Value::Null, &config, &config);
        assert_eq!(planned.get("partitions"), &Value::Number(3.0));
        assert!(planned.get("id").is_unknown());
    }

    #[test]
    fn update_keeps_computed_values_and_flags_replacement() {
        let prior =
            obj(&[("name", Value::string("a")), ("partitions", Value::Number(3.0)), ("id", Value::string("a"))]);
        let config = obj(&[("name", Value::string("b")), ("partitions", Value::Null), ("id", Value::Null)]);
        let proposed =
            obj(&[("name", Value::string("b")), ("partitions", Value::Number(3.0)), ("id", Value::string("a"))]);
        let planned = plan_defaults(&schema(), &prior, &config, &proposed);
        assert_eq!(planned.get("id"), &Value::string("a"));
        assert_eq!(requires_replace(&schema(), &prior, &planned), vec![AttrPath::attr("name")]);
        assert!(requires_replace(&schema(), &prior, &prior).is_empty());
    }

    #[test]
    fn defaults_fill_imported_state() {
        let mut state = obj(&[("name", Value::string("a")), ("partitions", Value::Null), ("id", Value::string("a"))]);
        fill_defaults(&schema(), &mut state);
        assert_eq!(state.get("partitions"), &Value::Number(3.0));
    }
}
