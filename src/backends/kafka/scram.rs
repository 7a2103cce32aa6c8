//! SCRAM credentials (AlterUserScramCredentials, KIP-554), which the safe `rdkafka` API lacks,
//! through `rdkafka-sys`: a domain's Kafka login. librdkafka salts the password itself and
//! sends only the salted hash; the password is copied into the request and never logged.
//! Every `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rd;

use super::acls::{answer, first_failure, Request};
use super::ffi::{cstring, Failure, Owned};
use crate::backends::streaming::ScramMechanism;

/// PBKDF2 iterations of a credential the provider sets: Kafka accepts 4096 to 16384.
pub(crate) const ITERATIONS: i32 = 8192;

fn native(m: ScramMechanism) -> rd::rd_kafka_ScramMechanism_t {
    match m {
        ScramMechanism::Sha256 => rd::rd_kafka_ScramMechanism_t::RD_KAFKA_SCRAM_MECHANISM_SHA_256,
        ScramMechanism::Sha512 => rd::rd_kafka_ScramMechanism_t::RD_KAFKA_SCRAM_MECHANISM_SHA_512,
    }
}

/// Sets (`Some(password)`) or deletes (`None`) `user`'s credential for `mechanism`; blocks until
/// the broker answers or `timeout` passes. Deleting a credential that does not exist is fine.
pub(super) fn alter(
    admin: &AdminClient<DefaultClientContext>,
    user: &str,
    mechanism: ScramMechanism,
    password: Option<&str>,
    timeout: Duration,
) -> Result<(), Failure> {
    let name = cstring(user)?;
    // SAFETY: the user name is live for the call, which copies it (and the password bytes,
    // read for exactly their length); the alteration is owned by its guard.
    let alteration = unsafe {
        let ptr = match password {
            Some(p) => rd::rd_kafka_UserScramCredentialUpsertion_new(
                name.as_ptr(),
                native(mechanism),
                ITERATIONS,
                p.as_ptr(),
                p.len(),
                std::ptr::null(),
                0,
            ),
            None => rd::rd_kafka_UserScramCredentialDeletion_new(name.as_ptr(), native(mechanism)),
        };
        Owned { ptr, destroy: rd::rd_kafka_UserScramCredentialAlteration_destroy }
    };
    if alteration.ptr.is_null() {
        return Err((RDKafkaErrorCode::InvalidArgument, format!("SCRAM credential of user {user:?}")));
    }
    let mut ptrs = [alteration.ptr];
    let request = Request::new(admin, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_ALTERUSERSCRAMCREDENTIALS, timeout);
    // SAFETY: the client, options, queue and alteration are live for the call, which copies the
    // alteration; the responses belong to the event, which outlives every read of them.
    let outcome = unsafe {
        rd::rd_kafka_AlterUserScramCredentials(
            request.rk,
            ptrs.as_mut_ptr(),
            ptrs.len(),
            request.options.ptr,
            request.queue.ptr,
        );
        let event = request.next()?;
        let responses = answer(
            &event,
            "AlterUserScramCredentials",
            rd::rd_kafka_event_AlterUserScramCredentials_result,
            rd::rd_kafka_AlterUserScramCredentials_result_responses,
        )?;
        first_failure(responses, rd::rd_kafka_AlterUserScramCredentials_result_response_error)
    };
    match outcome {
        // Nothing to delete is what a delete wants.
        Err((RDKafkaErrorCode::ResourceNotFound, _)) if password.is_none() => Ok(()),
        other => other,
    }
}
