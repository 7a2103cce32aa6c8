//! CreateTopics through `rdkafka-sys`: the safe `rdkafka` API returns only each topic's error
//! code, dropping the broker's message (which config is invalid, and why); this keeps it.
//! Every `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use std::ffi::CString;
use std::os::raw::c_char;
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rd;

use super::acls::{answer, Request};
use super::ffi::{cstring, text, Failure, Owned};
use crate::backends::streaming::TopicSpec;

/// Creates one topic; blocks until the broker answers or `timeout` passes. A refusal carries
/// the broker's own message.
pub(super) fn create(
    admin: &AdminClient<DefaultClientContext>,
    spec: &TopicSpec,
    timeout: Duration,
) -> Result<(), Failure> {
    let name = cstring(&spec.name)?;
    let configs: Vec<(CString, CString)> =
        spec.configs.iter().map(|(k, v)| Ok((cstring(k)?, cstring(v)?))).collect::<Result<_, Failure>>()?;

    // SAFETY: the request's client is the live one owned by `admin`, which outlives this call,
    // and its options and queue are owned by it. The new topic is owned by an `Owned` guard
    // until after the request (librdkafka copies it), every
    // C string outlives the calls that read it, the error buffer is passed with its length,
    // and the result and its topics are read before the event owning them is destroyed.
    unsafe {
        let mut errstr = [0 as c_char; 512];
        let topic = Owned {
            ptr: rd::rd_kafka_NewTopic_new(
                name.as_ptr(),
                spec.partitions,
                spec.replication_factor,
                errstr.as_mut_ptr(),
                errstr.len(),
            ),
            destroy: rd::rd_kafka_NewTopic_destroy,
        };
        if topic.ptr.is_null() {
            return Err((RDKafkaErrorCode::InvalidArgument, text(errstr.as_ptr())));
        }
        for ((key, value), (k, _)) in configs.iter().zip(&spec.configs) {
            let code = rd::rd_kafka_NewTopic_set_config(topic.ptr, key.as_ptr(), value.as_ptr());
            if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                return Err((RDKafkaErrorCode::from(code), format!("cannot set config {k}")));
            }
        }
        let request = Request::new(admin, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout);
        // As the safe API does: the broker waits up to the timeout for the topic to be made.
        let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
        rd::rd_kafka_AdminOptions_set_operation_timeout(
            request.options.ptr,
            timeout_ms,
            errstr.as_mut_ptr(),
            errstr.len(),
        );
        let mut topics = [topic.ptr];
        rd::rd_kafka_CreateTopics(request.rk, topics.as_mut_ptr(), 1, request.options.ptr, request.queue.ptr);
        let event = request.next()?;
        let results = answer(
            &event,
            "CreateTopics",
            rd::rd_kafka_event_CreateTopics_result,
            rd::rd_kafka_CreateTopics_result_topics,
        )?;
        for &t in results {
            let code = rd::rd_kafka_topic_result_error(t);
            if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                return Err((RDKafkaErrorCode::from(code), text(rd::rd_kafka_topic_result_error_string(t))));
            }
        }
        Ok(())
    }
}
