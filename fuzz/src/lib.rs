//! What the fuzz targets share: every type the provider decodes Terraform's values as, and the
//! pure code a decoded value reaches next.
//!
//! A target hands its input to [`exercise`] with one decoder (msgpack or JSON). The input is
//! what Terraform would send as one `DynamicValue`, so the seed corpus is real requests as
//! captured (`DATAMESH_CAPTURE_DIR`, see `src/protocol/convert.rs`); which schema a value
//! belongs to is not in the bytes, so every input is decoded as each of them. Beyond "never
//! panic", a decoded value must encode again and decode to itself (the server re-encodes what
//! it decodes), and planning an unchanged value must replace nothing but unknowns.

use std::sync::{Arc, OnceLock};

use terraform_provider_datamesh::framework::plan::{fill_defaults, plan_defaults, requires_replace, unknowns_to_null};
use terraform_provider_datamesh::framework::resource::{identity_of, identity_type};
use terraform_provider_datamesh::framework::value::CodecError;
use terraform_provider_datamesh::framework::{
    typed, AttrPath, DataSource, Diagnostics, EphemeralResource, Resource, Schema, Type, Value,
};
use terraform_provider_datamesh::protocol::dynamic_value::{decode_msgpack, encode_msgpack};
use terraform_provider_datamesh::provider::{config, DatameshProvider, ProviderConfig};

/// A decoder under test: `decode_msgpack` or `decode_json`.
pub type Decoder = fn(&[u8], &Type) -> Result<Value, CodecError>;

/// What Terraform sends values of, and what the provider then does with one.
enum Use {
    ProviderConfig,
    Resource(Arc<dyn Resource>, Schema),
    Identity(Arc<dyn Resource>),
    DataSource(Arc<dyn DataSource>),
    Ephemeral(Arc<dyn EphemeralResource>),
    /// Decoded only: list resource configurations, function arguments, the dynamic type.
    DecodeOnly,
}

struct Surface {
    ty: Type,
    then: Use,
}

/// Every type a request's `DynamicValue` is decoded as, built once from the real provider.
fn surfaces() -> &'static [Surface] {
    static SURFACES: OnceLock<Vec<Surface>> = OnceLock::new();
    SURFACES.get_or_init(|| {
        let p = DatameshProvider::new();
        let mut out = vec![Surface { ty: p.schema().ty(), then: Use::ProviderConfig }];
        for (_, r, schema) in p.resources() {
            out.push(Surface { ty: schema.ty(), then: Use::Resource(r.clone(), schema.clone()) });
            out.push(Surface { ty: identity_type(r.as_ref()), then: Use::Identity(r.clone()) });
        }
        for (_, d, schema) in p.data_sources() {
            out.push(Surface { ty: schema.ty(), then: Use::DataSource(d.clone()) });
        }
        for (_, e, schema) in p.ephemeral_resources() {
            out.push(Surface { ty: schema.ty(), then: Use::Ephemeral(e.clone()) });
        }
        for (_, _, schema) in p.list_resources() {
            out.push(Surface { ty: schema.ty(), then: Use::DecodeOnly });
        }
        // Function arguments (every function takes strings).
        out.push(Surface { ty: Type::String, then: Use::DecodeOnly });
        // No schema uses it yet, but the codec's hardest case is the dynamic type, whose
        // concrete type comes from the input itself.
        out.push(Surface { ty: Type::Dynamic, then: Use::DecodeOnly });
        out
    })
}

/// Decodes `data` as every surface's type and runs what follows a successful decode.
pub fn exercise(decode: Decoder, data: &[u8]) {
    for s in surfaces() {
        let Ok(value) = decode(data, &s.ty) else { continue };
        reencodes(&value, &s.ty);
        match &s.then {
            Use::ProviderConfig => provider_config(&value),
            Use::Resource(r, schema) => resource(r.as_ref(), schema, &s.ty, &value),
            Use::Identity(r) => {
                let _ = r.import_id(&value);
            }
            Use::DataSource(d) => d.validate(&value, &mut Diagnostics::new()),
            Use::Ephemeral(e) => e.validate(&value, &mut Diagnostics::new()),
            Use::DecodeOnly => {}
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

fn provider_config(value: &Value) {
    let c = ProviderConfig::from_value(value);
    let _ = c.unknown_error("aws");
    let _ = c.unknown_error("kafka");
    config::validate(value, &mut Diagnostics::new());
}

/// Validation and the generic planning rules, with the value in each role Terraform gives one.
fn resource(r: &dyn Resource, schema: &Schema, ty: &Type, value: &Value) {
    r.validate(value, &mut Diagnostics::new());
    let _ = identity_of(r, value);

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
