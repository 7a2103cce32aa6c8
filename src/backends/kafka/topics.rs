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

use super::ffi::{admin_request, cstring, text, Failure, Owned};
use crate::backends::streaming::TopicSpec;

/// Creates one topic; blocks until the broker answers or `timeout` passes. A refusal carries
/// the broker's own message.
pub(super) fn create(
    admin: &AdminClient<DefaultClientContext>,
    spec: &TopicSpec,
    timeout: Duration,
) -> Result<(), Failure> {
    let rk = admin.inner().native_ptr();
    let name = cstring(&spec.name)?;
    let configs: Vec<(CString, CString)> =
        spec.configs.iter().map(|(k, v)| Ok((cstring(k)?, cstring(v)?))).collect::<Result<_, Failure>>()?;

    // SAFETY: `rk` is the live client owned by `admin`, which outlives this call. The new
    // topic is owned by an `Owned` guard until after the request (librdkafka copies it), every
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
        let op = rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_CREATETOPICS;
        let event = admin_request(rk, op, timeout, true, |options, queue| {
            let mut topics = [topic.ptr];
            rd::rd_kafka_CreateTopics(rk, topics.as_mut_ptr(), 1, options, queue);
        })?;
        let result = rd::rd_kafka_event_CreateTopics_result(event.ptr);
        if result.is_null() {
            return Err((RDKafkaErrorCode::Fail, "unexpected answer to CreateTopics".into()));
        }
        let mut count = 0usize;
        let topics = rd::rd_kafka_CreateTopics_result_topics(result, &mut count);
        for i in 0..count {
            let t = *topics.add(i);
            let code = rd::rd_kafka_topic_result_error(t);
            if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                return Err((RDKafkaErrorCode::from(code), text(rd::rd_kafka_topic_result_error_string(t))));
            }
        }
        Ok(())
    }
}
