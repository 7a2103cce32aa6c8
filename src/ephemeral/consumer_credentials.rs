//! `datamesh_consumer_credentials`: short-lived credentials of a domain's role, from STS, for
//! reading what the domain was granted — without a secret ever reaching state or plan.

use crate::backends::Diagnose;
use async_trait::async_trait;

use crate::naming;
use crate::provider::{Context, ProviderData};
use tfplugin::framework::{AttrPath, Attribute, Block, Diagnostics, EphemeralResource, Schema, Type, Value};

/// The `datamesh_consumer_credentials` ephemeral resource.
pub(super) struct ConsumerCredentials;

/// STS allows 15 minutes to 12 hours.
const MIN_DURATION: i64 = 900;
const MAX_DURATION: i64 = 43_200;

#[async_trait]
impl EphemeralResource<ProviderData> for ConsumerCredentials {
    fn type_name(&self) -> &'static str {
        "datamesh_consumer_credentials"
    }

    fn schema(&self) -> Schema {
        Schema::new(Block::new(
            "Short-lived credentials of a consumer domain's IAM role, from STS AssumeRole: use them to read the data products the domain was granted. Ephemeral: nothing of it is stored in state or plan files (Terraform >= 1.10).",
            vec![
                Attribute::required("consumer_domain", Type::String, "The domain whose role to assume."),
                Attribute::optional_computed("duration_seconds", Type::Number, "How long the credentials last, 900 to 43200 seconds. Default `900`."),
                Attribute::computed("role_arn", Type::String, "The assumed role's ARN."),
                Attribute::computed("access_key_id", Type::String, "The temporary access key ID."),
                Attribute::computed("secret_access_key", Type::String, "The temporary secret access key.").sensitive(),
                Attribute::computed("session_token", Type::String, "The session token.").sensitive(),
                Attribute::computed("expiration", Type::String, "When the credentials expire (RFC 3339)."),
            ],
        ))
    }

    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(name) = config.get("consumer_domain").as_str() {
            if let Err(msg) = naming::check_domain(name) {
                diags.attr_error(AttrPath::attr("consumer_domain"), "Invalid consumer_domain", msg);
            }
        }
        if let Some(d) = config.get("duration_seconds").as_f64() {
            if d < MIN_DURATION as f64 || d > MAX_DURATION as f64 || d.fract() != 0.0 {
                diags.attr_error(
                    AttrPath::attr("duration_seconds"),
                    "Invalid duration_seconds",
                    format!("STS issues credentials for {MIN_DURATION} to {MAX_DURATION} whole seconds; {d} is outside that."),
                );
            }
        }
    }

    async fn open(&self, ctx: &Context, config: &Value, diags: &mut Diagnostics) -> Value {
        // Terraform validates before it opens, but values unknown then (another resource's
        // output) arrive here unchecked: check again before they reach a role or session name.
        let mut checked = Diagnostics::new();
        self.validate(config, &mut checked);
        if checked.has_errors() {
            diags.extend(checked);
            return Value::Null;
        }
        let Some(domain) = config.get("consumer_domain").as_str().map(str::to_string) else { return Value::Null };
        let duration = config.get("duration_seconds").as_i64().unwrap_or(MIN_DURATION);
        let Some(iam) = diags.ok(ctx.provider.iam().await) else { return Value::Null };
        let role = naming::role_name(&ctx.provider.config.name_prefix, &domain);
        let arn = match iam.get_role(&role).await {
            Ok(Some(r)) => r.arn,
            Ok(None) => {
                diags.attr_error(
                    AttrPath::attr("consumer_domain"),
                    "Domain not found",
                    format!("Domain {domain:?} has no IAM role {role:?}. Create its datamesh_domain first."),
                );
                return Value::Null;
            }
            Err(e) => {
                diags.0.push(e.diagnostic(&format!("IAM role {role:?}")));
                return Value::Null;
            }
        };
        match iam.assume_role(&arn, &session_name(&domain), duration as i32).await {
            Ok(c) => {
                let mut out = config.clone();
                out.set("duration_seconds", Value::Number(duration as f64));
                out.set("role_arn", Value::string(arn));
                out.set("access_key_id", Value::string(c.access_key_id));
                out.set("secret_access_key", Value::string(c.secret_access_key));
                out.set("session_token", Value::string(c.session_token));
                out.set("expiration", Value::string(c.expiration));
                out
            }
            Err(e) => {
                diags.0.push(
                    e.attr_diagnostic(AttrPath::attr("consumer_domain"), &format!("the role of domain {domain:?}")),
                );
                Value::Null
            }
        }
    }
}

/// The STS session name for a domain: `datamesh-<domain>`, cut to STS's 64 characters (on a
/// character boundary, whatever the name holds).
fn session_name(domain: &str) -> String {
    format!("datamesh-{domain}").chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_names_fit_sts_whatever_the_domain() {
        assert_eq!(session_name("sales"), "datamesh-sales");
        assert_eq!(session_name(&"d".repeat(100)).len(), 64);
        // Multi-byte characters are never split (a byte slice at 64 would panic here).
        let cut = session_name(&"é".repeat(60));
        assert_eq!(cut.chars().count(), 64);
    }
}
