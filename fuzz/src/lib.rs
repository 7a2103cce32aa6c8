//! What the fuzz targets share. The decoder targets (`decode_msgpack`, `decode_json`) share this
//! module's own code: every type the provider decodes Terraform's values as, and the framework
//! code a decoded value reaches next. The targets of the backends' answer parsers share
//! [`answer`]; the CQL quoting target (`cql_quoting`) stands alone.
//!
//! A decoder target hands its input to [`exercise`] with one decoder (msgpack or JSON). The
//! input is what Terraform would send as one `DynamicValue`, so the seed corpus is real requests
//! as captured (`TFPLUGIN_CAPTURE_DIR`, see `crates/tfplugin/src/protocol/convert.rs`); which
//! schema a value belongs to is not in the bytes, so every input is decoded as each of them. The
//! types and the resource schemas come from `surfaces.json`, a snapshot of the provider's schemas
//! (a unit test of the provider keeps it current), so the targets build against the `tfplugin`
//! framework alone. Beyond "never panic", a decoded value must encode again and decode to itself
//! (the server re-encodes what it decodes), and planning an unchanged value must replace nothing
//! but unknowns.

pub mod answer;

use std::sync::OnceLock;

use tfplugin::framework::plan::{fill_defaults, plan_defaults, requires_replace, unknowns_to_null};
use tfplugin::framework::value::CodecError;
use tfplugin::framework::{typed, AttrPath, Schema, Type, Value};
use tfplugin::protocol::dynamic_value::{decode_msgpack, encode_msgpack};

/// A decoder under test: `decode_msgpack` or `decode_json`.
pub type Decoder = fn(&[u8], &Type) -> Result<Value, CodecError>;

/// One type Terraform sends values of, and the schema planned against, for resources.
struct Surface {
    ty: Type,
    schema: Option<Schema>,
}

/// Every surface of the provider, read once from the snapshot.
fn surfaces() -> &'static [Surface] {
    static SURFACES: OnceLock<Vec<Surface>> = OnceLock::new();
    SURFACES.get_or_init(|| {
        let json: serde_json::Value = match serde_json::from_str(include_str!("../surfaces.json")) {
            Ok(j) => j,
            Err(e) => panic!("fuzz/surfaces.json is not JSON: {e}"),
        };
        let mut out: Vec<Surface> = json
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|s| {
                let name = s["surface"].as_str().unwrap_or("?");
                let ty = Type::from_json(&s["type"]).unwrap_or_else(|e| panic!("surface {name}: bad type: {e}"));
                let schema = (!s["schema"].is_null()).then(|| {
                    Schema::from_json(&s["schema"]).unwrap_or_else(|e| panic!("surface {name}: bad schema: {e}"))
                });
                Surface { ty, schema }
            })
            .collect();
        assert!(out.len() > 1, "fuzz/surfaces.json lists no surfaces");
        // No schema uses it yet, but the codec's hardest case is the dynamic type, whose
        // concrete type comes from the input itself.
        out.push(Surface { ty: Type::Dynamic, schema: None });
        out
    })
}

/// Decodes `data` as every surface's type and runs what follows a successful decode.
pub fn exercise(decode: Decoder, data: &[u8]) {
    for s in surfaces() {
        let Ok(value) = decode(data, &s.ty) else { continue };
        reencodes(&value, &s.ty);
        if let Some(schema) = &s.schema {
            plan(schema, &s.ty, &value);
        }
        // The typed-struct path every resource reads its values through.
        let _ = typed::from_value::<serde_json::Value>(&value);
    }
}

/// A decoded value encodes again, and decodes back to itself.
fn reencodes(value: &Value, ty: &Type) {
    let bytes = match encode_msgpack(value, ty) {
        Ok(b) => b,
        Err(e) => panic!("a decoded value does not encode: {e}\nvalue: {value:?}\ntype: {ty:?}"),
    };
    match decode_msgpack(&bytes, ty) {
        Ok(back) => assert!(back == *value, "re-decoding changed the value\nbefore: {value:?}\nafter:  {back:?}"),
        Err(e) => panic!("the encoding of a decoded value does not decode: {e}\nvalue: {value:?}\nbytes: {bytes:02x?}"),
    }
}

/// The generic planning rules, with the value in each role Terraform gives one.
fn plan(schema: &Schema, ty: &Type, value: &Value) {
    // Create: no prior state.
    let planned = plan_defaults(schema, &Value::Null, value, value);
    assert!(requires_replace(schema, &Value::Null, &planned).is_empty(), "a create plans a replacement");
    encodes(&planned, ty);

    // An update that changes nothing replaces nothing, unless a value is not known yet.
    let planned = plan_defaults(schema, value, value, value);
    encodes(&planned, ty);
    let replaced = requires_replace(schema, value, value);
    let unknown: Vec<AttrPath> = if value.is_null() {
        Vec::new()
    } else {
        schema
            .block
            .attributes
            .iter()
            .filter(|a| a.requires_replace && value.get(&a.name).is_unknown())
            .map(|a| AttrPath::attr(&a.name))
            .collect()
    };
    assert!(replaced == unknown, "an unchanged value plans replacing {replaced:?}\nvalue: {value:?}");

    // The prior state as apply leaves it (nothing unknown, defaults filled), against the value
    // as configuration and proposal.
    let mut prior = value.clone();
    unknowns_to_null(&mut prior);
    fill_defaults(schema, &mut prior);
    encodes(&prior, ty);
    let planned = plan_defaults(schema, &prior, value, value);
    encodes(&planned, ty);
    let _ = requires_replace(schema, &prior, &planned);
}

/// The server encodes planned states for Terraform: that must work for any plan of a decoded
/// value.
fn encodes(value: &Value, ty: &Type) {
    if let Err(e) = encode_msgpack(value, ty) {
        panic!("a planned value does not encode: {e}\nvalue: {value:?}");
    }
}
