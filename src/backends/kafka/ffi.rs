//! The few pieces every `rdkafka-sys` call site shares: ownership of librdkafka objects, C
//! strings in and out, and the failure type. The `unsafe` code of the Kafka backend lives here
//! and in `acls.rs`, `events.rs`, `incremental.rs`, `scram.rs` and `topics.rs` (the calls the safe `rdkafka` API lacks);
//! every block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::os::raw::c_char;

use rdkafka::error::RDKafkaErrorCode;

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
