//! CreateAcls, DescribeAcls and DeleteAcls, which the safe `rdkafka` API lacks, through
//! `rdkafka-sys`. Callers check the broker's ACL support first (`api_versions.rs`): librdkafka
//! aborts the process on some brokers' malformed ACL answers. Every `unsafe` block says why
//! it is sound.
#![allow(unsafe_code)]

use std::collections::BTreeSet;
use std::os::raw::c_char;
use std::time::{Duration, Instant};

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rd;

use super::ffi::{cstring, text, Failure, Owned};
use crate::acl::{AclBinding, AclOperation, AclPattern, AclResource};

/// Every binding the provider makes is allowed from any host.
const ANY_HOST: &str = "*";

fn resource_type(r: AclResource) -> rd::rd_kafka_ResourceType_t {
    match r {
        AclResource::Topic => rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC,
        AclResource::Group => rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_GROUP,
    }
}

fn resource_from(t: rd::rd_kafka_ResourceType_t) -> Option<AclResource> {
    match t {
        rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC => Some(AclResource::Topic),
        rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_GROUP => Some(AclResource::Group),
        _ => None,
    }
}

fn pattern_type(p: AclPattern) -> rd::rd_kafka_ResourcePatternType_t {
    match p {
        AclPattern::Literal => rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_LITERAL,
        AclPattern::Prefixed => rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_PREFIXED,
    }
}

fn pattern_from(t: rd::rd_kafka_ResourcePatternType_t) -> Option<AclPattern> {
    match t {
        rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_LITERAL => Some(AclPattern::Literal),
        rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_PREFIXED => Some(AclPattern::Prefixed),
        _ => None,
    }
}

fn operation_type(o: AclOperation) -> rd::rd_kafka_AclOperation_t {
    match o {
        AclOperation::All => rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_ALL,
        AclOperation::Read => rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_READ,
        AclOperation::Write => rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_WRITE,
        AclOperation::Describe => rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_DESCRIBE,
    }
}

fn operation_from(t: rd::rd_kafka_AclOperation_t) -> Option<AclOperation> {
    match t {
        rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_ALL => Some(AclOperation::All),
        rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_READ => Some(AclOperation::Read),
        rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_WRITE => Some(AclOperation::Write),
        rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_DESCRIBE => Some(AclOperation::Describe),
        _ => None,
    }
}

/// The text librdkafka wrote into an `errstr` buffer, read without trusting its termination.
fn errstr_text(buf: &[c_char]) -> String {
    let bytes: Vec<u8> = buf.iter().map(|&c| c as u8).collect();
    std::ffi::CStr::from_bytes_until_nul(&bytes).map(|s| s.to_string_lossy().into_owned()).unwrap_or_default()
}

/// An ALLOW-from-any-host binding (to create) or a filter matching exactly that binding (to
/// describe or delete).
fn new_binding(b: &AclBinding, filter: bool) -> Result<Owned<rd::rd_kafka_AclBinding_t>, Failure> {
    let (name, principal, host) = (cstring(&b.name)?, cstring(&b.principal)?, cstring(ANY_HOST)?);
    let mut errstr = [0 as c_char; 512];
    let new = if filter { rd::rd_kafka_AclBindingFilter_new } else { rd::rd_kafka_AclBinding_new };
    // SAFETY: the C strings are live for the call, which copies them; `errstr` is writable for
    // the length passed. The result is owned by the returned guard.
    let ptr = unsafe {
        new(
            resource_type(b.resource),
            name.as_ptr(),
            pattern_type(b.pattern),
            principal.as_ptr(),
            host.as_ptr(),
            operation_type(b.operation),
            rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW,
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    if ptr.is_null() {
        return Err((RDKafkaErrorCode::InvalidArgument, format!("ACL binding {b}: {}", errstr_text(&errstr))));
    }
    Ok(Owned { ptr, destroy: rd::rd_kafka_AclBinding_destroy })
}

/// The binding librdkafka describes, when it is one the provider could have made (ALLOW from
/// any host, on a topic or group, with one of our operations).
///
/// # Safety
/// `acl` is a valid binding that stays alive for the call.
unsafe fn binding_from(acl: *const rd::rd_kafka_AclBinding_t) -> Option<AclBinding> {
    // SAFETY: `acl` is valid by the caller's promise; the getters only read it, and the
    // strings they return live as long as it does and are copied at once.
    unsafe {
        let allowed = rd::rd_kafka_AclBinding_permission_type(acl)
            == rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ALLOW;
        if !allowed || text(rd::rd_kafka_AclBinding_host(acl)) != ANY_HOST {
            return None;
        }
        Some(AclBinding {
            resource: resource_from(rd::rd_kafka_AclBinding_restype(acl))?,
            name: text(rd::rd_kafka_AclBinding_name(acl)),
            pattern: pattern_from(rd::rd_kafka_AclBinding_resource_pattern_type(acl))?,
            principal: text(rd::rd_kafka_AclBinding_principal(acl)),
            operation: operation_from(rd::rd_kafka_AclBinding_operation(acl))?,
        })
    }
}

/// The failure an error object describes, if any; the object stays owned by its result.
///
/// # Safety
/// `err` is null or a valid error object that stays alive for the call.
pub(super) unsafe fn result_error(err: *const rd::rd_kafka_error_t) -> Option<Failure> {
    if err.is_null() {
        return None;
    }
    // SAFETY: non-null and live by the caller's promise; only read, never destroyed here.
    unsafe {
        let code = RDKafkaErrorCode::from(rd::rd_kafka_error_code(err));
        if code == RDKafkaErrorCode::NoError {
            return None;
        }
        Some((code, text(rd::rd_kafka_error_string(err))))
    }
}

/// A result array as a slice; empty when librdkafka returns none.
///
/// # Safety
/// `ptr` is null or points to `count` elements that outlive the returned slice.
unsafe fn items<'a, T>(ptr: *mut *const T, count: usize) -> &'a [*const T] {
    if ptr.is_null() || count == 0 {
        return &[];
    }
    // SAFETY: non-null and `count` long by the caller's promise.
    unsafe { std::slice::from_raw_parts(ptr, count) }
}

/// One admin request's plumbing: a dedicated result queue and options with the timeout.
pub(super) struct Request {
    pub(super) rk: *mut rd::rd_kafka_t,
    pub(super) options: Owned<rd::rd_kafka_AdminOptions_t>,
    pub(super) queue: Owned<rd::rd_kafka_queue_t>,
    deadline: Instant,
}

impl Request {
    pub(super) fn new(
        admin: &AdminClient<DefaultClientContext>,
        op: rd::rd_kafka_admin_op_t,
        timeout: Duration,
    ) -> Self {
        let rk = admin.inner().native_ptr();
        let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        let mut errstr = [0 as c_char; 256];
        // SAFETY: `rk` is the live client owned by `admin`, which outlives the request; the
        // queue and options are owned by guards; `errstr` is writable for the length passed.
        unsafe {
            let queue = Owned { ptr: rd::rd_kafka_queue_new(rk), destroy: rd::rd_kafka_queue_destroy };
            let options =
                Owned { ptr: rd::rd_kafka_AdminOptions_new(rk, op), destroy: rd::rd_kafka_AdminOptions_destroy };
            rd::rd_kafka_AdminOptions_set_request_timeout(options.ptr, timeout_ms, errstr.as_mut_ptr(), errstr.len());
            // librdkafka answers on its own after the request timeout; the extra second only
            // keeps us from giving up just before it does.
            Self { rk, options, queue, deadline: Instant::now() + timeout + Duration::from_secs(1) }
        }
    }

    /// The next answer on the queue, once it carries no request-level error.
    pub(super) fn next(&self) -> Result<Owned<rd::rd_kafka_event_t>, Failure> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        let left_ms = i32::try_from(left.as_millis()).unwrap_or(i32::MAX);
        // SAFETY: the queue is live (owned by `self`); the event is owned by a guard and read
        // before it is destroyed.
        unsafe {
            let event =
                Owned { ptr: rd::rd_kafka_queue_poll(self.queue.ptr, left_ms), destroy: rd::rd_kafka_event_destroy };
            if event.ptr.is_null() {
                return Err((RDKafkaErrorCode::OperationTimedOut, "no answer from the broker in time".into()));
            }
            let code = rd::rd_kafka_event_error(event.ptr);
            if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                return Err((RDKafkaErrorCode::from(code), text(rd::rd_kafka_event_error_string(event.ptr))));
            }
            Ok(event)
        }
    }
}

fn unexpected(op: &str) -> Failure {
    (RDKafkaErrorCode::Fail, format!("unexpected answer to {op}"))
}

/// The items of the answer `event` carries: `result_of` takes the operation's result out of the
/// event (null when the event is not that operation's answer), `items_of` reads its array.
///
/// # Safety
/// `event` is a live event; the two functions are the librdkafka accessors of one operation.
/// The slice borrows from the event.
pub(super) unsafe fn answer<'a, R, T>(
    event: &'a Owned<rd::rd_kafka_event_t>,
    op: &str,
    result_of: unsafe extern "C" fn(*mut rd::rd_kafka_event_t) -> *const R,
    items_of: unsafe extern "C" fn(*const R, *mut usize) -> *mut *const T,
) -> Result<&'a [*const T], Failure> {
    // SAFETY: the event is live by the caller's promise and outlives the slice; the accessors
    // are the ones for this operation, so the result and its array belong to it.
    unsafe {
        let result = result_of(event.ptr);
        if result.is_null() {
            return Err(unexpected(op));
        }
        let mut count = 0usize;
        Ok(items(items_of(result, &mut count), count))
    }
}

/// The first failure among per-item answers (each binding of a CreateAcls, each filter of a
/// DeleteAcls).
///
/// # Safety
/// Each item is live for the call and `error_of` is its librdkafka error accessor.
pub(super) unsafe fn first_failure<T>(
    answers: &[*const T],
    error_of: unsafe extern "C" fn(*const T) -> *const rd::rd_kafka_error_t,
) -> Result<(), Failure> {
    for &item in answers {
        // SAFETY: the item is live by the caller's promise; the error belongs to it.
        if let Some(failure) = unsafe { result_error(error_of(item)) } {
            return Err(failure);
        }
    }
    Ok(())
}

/// Creates the bindings; blocks until the broker answers or `timeout` passes.
pub(super) fn create(
    admin: &AdminClient<DefaultClientContext>,
    bindings: &[AclBinding],
    timeout: Duration,
) -> Result<(), Failure> {
    if bindings.is_empty() {
        return Ok(());
    }
    let owned = bindings.iter().map(|b| new_binding(b, false)).collect::<Result<Vec<_>, _>>()?;
    let mut ptrs: Vec<_> = owned.iter().map(|b| b.ptr).collect();
    let request = Request::new(admin, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATEACLS, timeout);
    // SAFETY: the client, options, queue and bindings are live for the call, which copies the
    // bindings; the result arrays belong to the event, which outlives every read of them.
    unsafe {
        rd::rd_kafka_CreateAcls(request.rk, ptrs.as_mut_ptr(), ptrs.len(), request.options.ptr, request.queue.ptr);
        let event = request.next()?;
        let acls =
            answer(&event, "CreateAcls", rd::rd_kafka_event_CreateAcls_result, rd::rd_kafka_CreateAcls_result_acls)?;
        first_failure(acls, rd::rd_kafka_acl_result_error)
    }
}

/// Which of `wanted` exist, in `wanted`'s order: one exact filter per binding, all sent at
/// once, answers read until `timeout` passes.
pub(super) fn describe(
    admin: &AdminClient<DefaultClientContext>,
    wanted: &[AclBinding],
    timeout: Duration,
) -> Result<Vec<AclBinding>, Failure> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let filters = wanted.iter().map(|b| new_binding(b, true)).collect::<Result<Vec<_>, _>>()?;
    // The filters are exact, but a broker may match more loosely: keep only what was asked for.
    let found = described(admin, &filters, timeout)?;
    Ok(wanted.iter().filter(|b| found.contains(*b)).cloned().collect())
}

/// Every binding the broker holds that the provider could have made: one match-any filter.
pub(super) fn list(admin: &AdminClient<DefaultClientContext>, timeout: Duration) -> Result<Vec<AclBinding>, Failure> {
    Ok(described(admin, &[any_filter()?], timeout)?.into_iter().collect())
}

/// A filter matching every binding (what `kafka-acls --list` asks for).
fn any_filter() -> Result<Owned<rd::rd_kafka_AclBinding_t>, Failure> {
    let mut errstr = [0 as c_char; 512];
    // SAFETY: a null name, principal and host match any (librdkafka's filter contract), so no
    // string is passed; `errstr` is writable for the length passed. The result is owned by the
    // returned guard.
    let ptr = unsafe {
        rd::rd_kafka_AclBindingFilter_new(
            rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_ANY,
            std::ptr::null(),
            rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_ANY,
            std::ptr::null(),
            std::ptr::null(),
            rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_ANY,
            rd::rd_kafka_AclPermissionType_t::RD_KAFKA_ACL_PERMISSION_TYPE_ANY,
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    if ptr.is_null() {
        return Err((RDKafkaErrorCode::InvalidArgument, format!("the match-any ACL filter: {}", errstr_text(&errstr))));
    }
    Ok(Owned { ptr, destroy: rd::rd_kafka_AclBinding_destroy })
}

/// The bindings the answers to `filters` hold, of those the provider could have made: every
/// filter sent at once, answers read until `timeout` passes.
fn described(
    admin: &AdminClient<DefaultClientContext>,
    filters: &[Owned<rd::rd_kafka_AclBinding_t>],
    timeout: Duration,
) -> Result<BTreeSet<AclBinding>, Failure> {
    let request = Request::new(admin, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBEACLS, timeout);
    let mut found = BTreeSet::new();
    // SAFETY: the client, options, queue and filters are live for each call, which copies the
    // filter; the described bindings belong to their event and are copied before it is
    // destroyed.
    unsafe {
        for filter in filters {
            rd::rd_kafka_DescribeAcls(request.rk, filter.ptr, request.options.ptr, request.queue.ptr);
        }
        for _ in filters {
            let event = request.next()?;
            let acls = answer(
                &event,
                "DescribeAcls",
                rd::rd_kafka_event_DescribeAcls_result,
                rd::rd_kafka_DescribeAcls_result_acls,
            )?;
            for &acl in acls {
                if let Some(binding) = binding_from(acl) {
                    found.insert(binding);
                }
            }
        }
    }
    Ok(found)
}

/// Deletes exactly these bindings (missing ones match nothing, which is fine); blocks until the
/// broker answers or `timeout` passes.
pub(super) fn delete(
    admin: &AdminClient<DefaultClientContext>,
    bindings: &[AclBinding],
    timeout: Duration,
) -> Result<(), Failure> {
    if bindings.is_empty() {
        return Ok(());
    }
    let filters = bindings.iter().map(|b| new_binding(b, true)).collect::<Result<Vec<_>, _>>()?;
    let mut ptrs: Vec<_> = filters.iter().map(|f| f.ptr).collect();
    let request = Request::new(admin, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DELETEACLS, timeout);
    // SAFETY: the client, options, queue and filters are live for the call, which copies the
    // filters; the responses belong to the event, which outlives every read of them.
    unsafe {
        rd::rd_kafka_DeleteAcls(request.rk, ptrs.as_mut_ptr(), ptrs.len(), request.options.ptr, request.queue.ptr);
        let event = request.next()?;
        let responses = answer(
            &event,
            "DeleteAcls",
            rd::rd_kafka_event_DeleteAcls_result,
            rd::rd_kafka_DeleteAcls_result_responses,
        )?;
        first_failure(responses, rd::rd_kafka_DeleteAcls_result_response_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_binding() -> Vec<AclBinding> {
        let mut out = Vec::new();
        for resource in [AclResource::Topic, AclResource::Group] {
            for pattern in [AclPattern::Literal, AclPattern::Prefixed] {
                for operation in [AclOperation::All, AclOperation::Read, AclOperation::Write, AclOperation::Describe] {
                    out.push(AclBinding {
                        resource,
                        name: "sales.orders.".into(),
                        pattern,
                        principal: "User:mkt".into(),
                        operation,
                    });
                }
            }
        }
        out
    }

    #[test]
    fn bindings_and_filters_round_trip_through_librdkafka() {
        for b in every_binding() {
            for filter in [false, true] {
                let made = new_binding(&b, filter);
                let Ok(made) = made else { panic!("{b}: {:?}", made.err()) };
                // SAFETY: `made` is a live binding owned by its guard for the whole call.
                let back = unsafe { binding_from(made.ptr) };
                assert_eq!(back.as_ref(), Some(&b), "filter {filter}");
            }
        }
    }

    #[test]
    fn the_match_any_filter_is_one_librdkafka_accepts() {
        assert!(any_filter().is_ok());
    }

    #[test]
    fn a_nul_in_a_name_is_an_invalid_argument() {
        let mut b = every_binding().remove(0);
        b.principal = "User:a\0b".into();
        assert!(matches!(new_binding(&b, false), Err((RDKafkaErrorCode::InvalidArgument, _))));
    }

    #[test]
    fn enums_map_both_ways() {
        for r in [AclResource::Topic, AclResource::Group] {
            assert_eq!(resource_from(resource_type(r)), Some(r));
        }
        for p in [AclPattern::Literal, AclPattern::Prefixed] {
            assert_eq!(pattern_from(pattern_type(p)), Some(p));
        }
        for o in [AclOperation::All, AclOperation::Read, AclOperation::Write, AclOperation::Describe] {
            assert_eq!(operation_from(operation_type(o)), Some(o));
        }
        assert_eq!(operation_from(rd::rd_kafka_AclOperation_t::RD_KAFKA_ACL_OPERATION_ANY), None);
        assert_eq!(pattern_from(rd::rd_kafka_ResourcePatternType_t::RD_KAFKA_RESOURCE_PATTERN_MATCH), None);
    }

    #[test]
    fn errstr_text_stops_at_the_nul_and_survives_none() {
        let mut buf = [0 as c_char; 8];
        for (i, c) in b"bad".iter().enumerate() {
            buf[i] = *c as c_char;
        }
        assert_eq!(errstr_text(&buf), "bad");
        assert_eq!(errstr_text(&[b'x' as c_char; 4]), "");
    }
}
