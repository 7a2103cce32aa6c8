//! `decode_msgpack` on any bytes, as every type Terraform sends msgpack values of (provider
//! configuration, resource states, plans and configurations, identities, data source,
//! ephemeral and list resource configurations) then planning of what decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfplugin::protocol::dynamic_value::decode_msgpack;

fuzz_target!(|data: &[u8]| terraform_provider_datamesh_fuzz::exercise(decode_msgpack, data));
