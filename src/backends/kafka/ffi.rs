//! The few pieces every `rdkafka-sys` call site shares: ownership of librdkafka objects, C
//! strings in and out, and the failure type. The `unsafe` code of the Kafka backend lives here
//! and in `acls.rs`, `events.rs`, `incremental.rs`, `scram.rs` and `topics.rs` (the calls the safe `rdkafka` API lacks);
//! every block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::os::raw::c_char;
use std::time::Duration;

use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rd;

/// An error code and its text.
pub(super) type Failure = (RDKafkaErrorCode, String);

/// Owns a librdkafka object and destroys it exactly once.
pub(super) struct Owned<T> {
    pub(super) ptr: *mut T,
    pub(super) destroy: unsafe extern "C" fn(*mut T),
}

impl<T> Drop for Owned<T> {
    fn drop(&mut self) {
        if !self.ptr.is_null() {
            // SAFETY: `ptr` came from the matching librdkafka constructor, is non-null, and is
            // destroyed only here.
            unsafe { (self.destroy)(self.ptr) }
        }
    }
}

/// A string for librdkafka; a user value holding a NUL byte is an error, never a truncation.
pub(super) fn cstring(s: &str) -> Result<CString, Failure> {
    CString::new(s).map_err(|_| (RDKafkaErrorCode::InvalidArgument, format!("{s:?} contains a NUL byte")))
}

/// Copies a C string librdkafka lends; empty when null (librdkafka returns null for "no text"
/// from several accessors).
///
/// # Safety
/// `ptr` is null or a NUL-terminated string that stays valid for the call.
pub(super) unsafe fn text(ptr: *const c_char) -> String {
    if ptr.is_null() {
        return String::new();
    }
    // SAFETY: non-null, and NUL-terminated and live by the caller's promise.
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

/// Runs one admin request of kind `op` on a private queue: options with `timeout` as the
/// request timeout (and the operation timeout too, with `operation_timeout`), `start` to issue
/// the request, then the result event, checked for a request-level error (no broker, timed out).
///
/// # Safety
/// `rk` is a live client that outlives the call; `start` issues exactly one admin request of
/// kind `op` with the options and queue it is given, from objects that stay valid for its call.
pub(super) unsafe fn admin_request(
    rk: *mut rd::rd_kafka_t,
    op: rd::rd_kafka_admin_op_t,
    timeout: Duration,
    operation_timeout: bool,
    start: impl FnOnce(*const rd::rd_kafka_AdminOptions_t, *mut rd::rd_kafka_queue_t),
) -> Result<Owned<rd::rd_kafka_event_t>, Failure> {
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: `rk` is live by the caller's promise; the queue and options are owned by guards
    // that outlive the request and its answer, and the error buffer outlives the calls that
    // write it (librdkafka bounds its writes by the length given).
    unsafe {
        let queue = Owned { ptr: rd::rd_kafka_queue_new(rk), destroy: rd::rd_kafka_queue_destroy };
        let options = Owned { ptr: rd::rd_kafka_AdminOptions_new(rk, op), destroy: rd::rd_kafka_AdminOptions_destroy };
        let mut errstr = [0 as c_char; 256];
        rd::rd_kafka_AdminOptions_set_request_timeout(options.ptr, timeout_ms, errstr.as_mut_ptr(), errstr.len());
        if operation_timeout {
            rd::rd_kafka_AdminOptions_set_operation_timeout(options.ptr, timeout_ms, errstr.as_mut_ptr(), errstr.len());
        }
        start(options.ptr, queue.ptr);
        let event = Owned {
            ptr: rd::rd_kafka_queue_poll(queue.ptr, timeout_ms.saturating_add(1000)),
            destroy: rd::rd_kafka_event_destroy,
        };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn null_text_is_empty_and_nul_bytes_are_refused() {
        // SAFETY: null is allowed by the contract.
        assert_eq!(unsafe { text(std::ptr::null()) }, "");
        let owned = CString::new("broker said no").expect("no NUL");
        // SAFETY: a live NUL-terminated string.
        assert_eq!(unsafe { text(owned.as_ptr()) }, "broker said no");
        assert!(cstring("a\0b").is_err());
    }
}
