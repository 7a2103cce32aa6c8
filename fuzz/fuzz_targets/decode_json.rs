//! `decode_json` on any bytes: the JSON states (and identities) Terraform hands to
//! UpgradeResourceState and UpgradeResourceIdentity, decoded as every type, then the
//! planning of what decodes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tfplugin::protocol::dynamic_value::decode_json;

fuzz_target!(|data: &[u8]| terraform_provider_datamesh_fuzz::exercise(decode_json, data));
