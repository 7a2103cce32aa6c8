//! The real `Iam`: AWS IAM and STS (or a compatible endpoint) through the AWS SDK.
//!
//! Inline policies are read role by role until a process has read many (a refresh); then one
//! GetAccountAuthorizationDetails listing (every role's inline policies, page by page) answers
//! them, as `backends::listing` describes. Measured on moto with 1,000 grant roles: the listing
//! took 3.7 s, 1,000 GetRole + GetRolePolicy pairs 120 s. A principal that may not list the
//! account reads role by role, as before.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};

use async_trait::async_trait;
use aws_sdk_iam::types::Tag;

use super::error::{from_aws, BackendError, ErrorKind};
use super::iam::{CallerIdentity, Iam, Role, TemporaryCredentials};
use super::listing::Coalesced;

/// IAM and STS through the AWS SDK.
pub struct AwsIam {
    iam: aws_sdk_iam::Client,
    sts: aws_sdk_sts::Client,
    endpoint: String,
    /// Every role's inline policies (role → policy name → document), shared by many reads.
    policies: Coalesced<InlinePolicies>,
    /// GetAccountAuthorizationDetails failed once (not allowed, say): read role by role.
    no_listing: AtomicBool,
}

/// Role name → inline policy name → its (decoded) document.
type InlinePolicies = BTreeMap<String, BTreeMap<String, String>>;

impl AwsIam {
    /// Wraps configured clients; `endpoint` is only used in error messages.
    pub fn new(iam: aws_sdk_iam::Client, sts: aws_sdk_sts::Client, endpoint: String) -> Self {
        Self { iam, sts, endpoint, policies: Coalesced::default(), no_listing: AtomicBool::new(false) }
    }

    /// Every role's inline policies, from GetAccountAuthorizationDetails page by page.
    async fn inline_policies(&self) -> Result<InlinePolicies, BackendError> {
        let mut all = InlinePolicies::new();
        let mut marker = None;
        loop {
            let page = self
                .iam
                .get_account_authorization_details()
                .filter(aws_sdk_iam::types::EntityType::Role)
                .max_items(1000)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| self.err("GetAccountAuthorizationDetails", e))?;
            for role in page.role_detail_list() {
                let Some(name) = role.role_name() else { continue };
                let policies = all.entry(name.to_string()).or_default();
                for p in role.role_policy_list() {
                    if let (Some(policy), Some(document)) = (p.policy_name(), p.policy_document()) {
                        policies.insert(policy.to_string(), decode_policy(document));
                    }
                }
            }
            match page.marker() {
                Some(m) if page.is_truncated() => marker = Some(m.to_string()),
                _ => return Ok(all),
            }
        }
    }

    /// `role`'s inline policy `policy` from a listing when this process reads many; None when
    /// the read should ask IAM itself.
    async fn listed_policy(&self, role: &str, policy: &str) -> Option<Option<String>> {
        if self.no_listing.load(Ordering::Relaxed) {
            return None;
        }
        let listed = self
            .policies
            .read(|all| all.get(role).and_then(|p| p.get(policy)).cloned(), || self.inline_policies())
            .await;
        listed.unwrap_or_else(|e| {
            tracing::warn!(error = %e, "IAM: inline policies are read role by role (the account listing failed)");
            self.no_listing.store(true, Ordering::Relaxed);
            None
        })
    }

    fn err<E>(
        &self,
        op: &'static str,
        e: aws_sdk_iam::error::SdkError<E, aws_sdk_iam::config::http::HttpResponse>,
    ) -> BackendError
    where
        E: aws_sdk_iam::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        from_aws("IAM", op, &self.endpoint, e)
    }
}

/// IAM returns policy documents URL-encoded.
pub fn decode_policy(document: &str) -> String {
    percent_encoding::percent_decode_str(document).decode_utf8_lossy().into_owned()
}

fn tag_list(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, BackendError> {
    tags.iter()
        .map(|(k, v)| {
            Tag::builder()
                .key(k)
                .value(v)
                .build()
                .map_err(|e| BackendError::new(ErrorKind::Other, "IAM", "TagRole", format!("invalid tag {k}: {e}")))
        })
        .collect()
}

/// Counts the attempts the SDK makes for one call (its retries included).
#[derive(Debug, Clone, Default)]
struct AttemptCounter(std::sync::Arc<std::sync::atomic::AtomicU32>);

impl AttemptCounter {
    fn count(&self) -> u32 {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl aws_sdk_iam::config::Intercept for AttemptCounter {
    fn name(&self) -> &'static str {
        "AttemptCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &aws_sdk_iam::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &aws_sdk_iam::config::RuntimeComponents,
        _cfg: &mut aws_sdk_iam::config::ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(())
    }
}

/// Clocks may differ this much between the provider and IAM.
const CLOCK_SKEW_SECONDS: i64 = 300;

/// Whether `role` is exactly the one a CreateRole that started at `started` asked for.
fn role_made_by(
    role: &Role,
    path: &str,
    trust_policy: &str,
    tags: &BTreeMap<String, String>,
    started: std::time::SystemTime,
) -> bool {
    let started = started.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let same_trust = matches!(
        (serde_json::from_str::<serde_json::Value>(&role.trust_policy), serde_json::from_str::<serde_json::Value>(trust_policy)),
        (Ok(a), Ok(b)) if a == b
    );
    role.path == path && same_trust && &role.tags == tags && role.created_epoch_seconds >= started - CLOCK_SKEW_SECONDS
}

/// Missing things are fine where the caller asked for them to be gone.
fn not_found_ok(r: Result<(), BackendError>) -> Result<(), BackendError> {
    match r {
        Err(e) if e.is(ErrorKind::NotFound) => Ok(()),
        other => other,
    }
}

#[async_trait]
impl Iam for AwsIam {
    async fn caller_identity(&self) -> Result<CallerIdentity, BackendError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| from_aws("STS", "GetCallerIdentity", &self.endpoint, e))?;
        let account = out.account().map(str::to_string).ok_or_else(|| {
            BackendError::new(ErrorKind::Other, "STS", "GetCallerIdentity", "the answer names no account")
        })?;
        Ok(CallerIdentity { account, arn: out.arn().unwrap_or_default().to_string() })
    }

    async fn assume_role(
        &self,
        role_arn: &str,
        session_name: &str,
        duration_seconds: i32,
    ) -> Result<TemporaryCredentials, BackendError> {
        let out = self
            .sts
            .assume_role()
            .role_arn(role_arn)
            .role_session_name(session_name)
            .duration_seconds(duration_seconds)
            .send()
            .await
            .map_err(|e| from_aws("STS", "AssumeRole", &self.endpoint, e))?;
        let c = out.credentials().ok_or_else(|| {
            BackendError::new(ErrorKind::Other, "STS", "AssumeRole", "the answer holds no credentials")
        })?;
        Ok(TemporaryCredentials {
            access_key_id: c.access_key_id().to_string(),
            secret_access_key: c.secret_access_key().to_string(),
            session_token: c.session_token().to_string(),
            expiration: c.expiration().fmt(aws_sdk_sts::primitives::DateTimeFormat::DateTime).unwrap_or_default(),
        })
    }

    async fn create_role(
        &self,
        name: &str,
        path: &str,
        trust_policy: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<String, BackendError> {
        let started = std::time::SystemTime::now();
        let attempts = AttemptCounter::default();
        let sent = self
            .iam
            .create_role()
            .role_name(name)
            .path(path)
            .assume_role_policy_document(trust_policy)
            .set_tags(Some(tag_list(tags)?))
            .customize()
            .interceptor(attempts.clone())
            .send()
            .await;
        match sent {
            Ok(out) => Ok(out.role().map(|r| r.arn().to_string()).unwrap_or_default()),
            Err(e) => {
                let mut e = self.err("CreateRole", e);
                e.after_unanswered_attempt = attempts.count() > 1;
                if !(e.is(ErrorKind::AlreadyExists) && e.after_unanswered_attempt) {
                    return Err(e);
                }
                // The SDK retried after an attempt whose answer never came; that attempt may
                // have made the role. Only a role exactly as asked, made since this call
                // started, counts as its work.
                match self.get_role(name).await {
                    Ok(Some(role)) if role_made_by(&role, path, trust_policy, tags, started) => {
                        tracing::warn!(role = name, "CreateRole answered late; the role found is as asked and new, taken as made by that attempt");
                        Ok(role.arn)
                    }
                    _ => Err(e),
                }
            }
        }
    }

    async fn get_role(&self, name: &str) -> Result<Option<Role>, BackendError> {
        let out = match self.iam.get_role().role_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                let e = self.err("GetRole", e);
                return if e.is(ErrorKind::NotFound) { Ok(None) } else { Err(e) };
            }
        };
        let Some(role) = out.role() else { return Ok(None) };
        // GetRole's tag list may be truncated; ListRoleTags is authoritative.
        let mut tags = BTreeMap::new();
        let mut marker = None;
        loop {
            let page = self
                .iam
                .list_role_tags()
                .role_name(name)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| self.err("ListRoleTags", e))?;
            tags.extend(page.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())));
            match page.marker() {
                Some(m) if page.is_truncated() => marker = Some(m.to_string()),
                _ => break,
            }
        }
        Ok(Some(Role {
            arn: role.arn().to_string(),
            trust_policy: role.assume_role_policy_document().map(decode_policy).unwrap_or_default(),
            tags,
            path: role.path().to_string(),
            created_epoch_seconds: role.create_date().secs(),
        }))
    }

    async fn update_trust_policy(&self, name: &str, trust_policy: &str) -> Result<(), BackendError> {
        self.iam
            .update_assume_role_policy()
            .role_name(name)
            .policy_document(trust_policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| self.err("UpdateAssumeRolePolicy", e))
    }

    async fn set_role_tags(&self, name: &str, tags: &BTreeMap<String, String>) -> Result<(), BackendError> {
        let current = self.get_role(name).await?.map(|r| r.tags).unwrap_or_default();
        let stale: Vec<String> = current.keys().filter(|k| !tags.contains_key(*k)).cloned().collect();
        if !stale.is_empty() {
            self.iam
                .untag_role()
                .role_name(name)
                .set_tag_keys(Some(stale))
                .send()
                .await
                .map_err(|e| self.err("UntagRole", e))?;
        }
        let changed: BTreeMap<String, String> =
            tags.iter().filter(|(k, v)| current.get(*k) != Some(*v)).map(|(k, v)| (k.clone(), v.clone())).collect();
        if !changed.is_empty() {
            self.iam
                .tag_role()
                .role_name(name)
                .set_tags(Some(tag_list(&changed)?))
                .send()
                .await
                .map_err(|e| self.err("TagRole", e))?;
        }
        Ok(())
    }

    async fn delete_role(&self, name: &str) -> Result<(), BackendError> {
        let delete = self.iam.delete_role().role_name(name).send();
        not_found_ok(self.policies.writing(delete).await.map(|_| ()).map_err(|e| self.err("DeleteRole", e)))
    }

    async fn put_role_policy(&self, role: &str, policy: &str, document: &str) -> Result<(), BackendError> {
        let put = self.iam.put_role_policy().role_name(role).policy_name(policy).policy_document(document).send();
        self.policies.writing(put).await.map(|_| ()).map_err(|e| self.err("PutRolePolicy", e))
    }

    async fn get_role_policy(&self, role: &str, policy: &str) -> Result<Option<String>, BackendError> {
        if let Some(listed) = self.listed_policy(role, policy).await {
            return Ok(listed);
        }
        match self.iam.get_role_policy().role_name(role).policy_name(policy).send().await {
            Ok(out) => Ok(Some(decode_policy(out.policy_document()))),
            Err(e) => {
                let e = self.err("GetRolePolicy", e);
                if e.is(ErrorKind::NotFound) {
                    Ok(None)
                } else {
                    Err(e)
                }
            }
        }
    }

    async fn delete_role_policy(&self, role: &str, policy: &str) -> Result<(), BackendError> {
        let delete = self.iam.delete_role_policy().role_name(role).policy_name(policy).send();
        not_found_ok(self.policies.writing(delete).await.map(|_| ()).map_err(|e| self.err("DeleteRolePolicy", e)))
    }

    async fn list_role_policies(&self, role: &str) -> Result<Vec<String>, BackendError> {
        let mut names = Vec::new();
        let mut marker = None;
        loop {
            let page = self
                .iam
                .list_role_policies()
                .role_name(role)
                .set_marker(marker)
                .send()
                .await
                .map_err(|e| self.err("ListRolePolicies", e))?;
            names.extend(page.policy_names().iter().cloned());
            match page.marker() {
                Some(m) if page.is_truncated() => marker = Some(m.to_string()),
                _ => return Ok(names),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_late_create_is_taken_only_for_the_new_role_it_asked_for() {
        let tags = BTreeMap::from([("datamesh:domain".to_string(), "sales".to_string())]);
        let trust = r#"{"Version":"2012-10-17","Statement":[]}"#;
        let now = std::time::SystemTime::now();
        let secs = now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
        let role = Role {
            arn: "arn:aws:iam::123456789012:role/datamesh/x".into(),
            trust_policy: r#"{ "Statement": [], "Version": "2012-10-17" }"#.into(),
            tags: tags.clone(),
            path: "/datamesh/".into(),
            created_epoch_seconds: secs,
        };
        assert!(role_made_by(&role, "/datamesh/", trust, &tags, now), "reformatted trust is the same");
        assert!(!role_made_by(&role, "/other/", trust, &tags, now));
        assert!(!role_made_by(&role, "/datamesh/", r#"{"Version":"2012-10-17"}"#, &tags, now));
        assert!(!role_made_by(&role, "/datamesh/", trust, &BTreeMap::new(), now));
        let old = Role { created_epoch_seconds: secs - 3600, ..role.clone() };
        assert!(!role_made_by(&old, "/datamesh/", trust, &tags, now), "a role older than the call is someone else's");
    }

    #[test]
    fn policies_are_url_decoded() {
        assert_eq!(decode_policy("%7B%22Version%22%3A%222012-10-17%22%7D"), "{\"Version\":\"2012-10-17\"}");
        assert_eq!(decode_policy("{\"a\":1}"), "{\"a\":1}");
    }
}
