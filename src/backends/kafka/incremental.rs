//! IncrementalAlterConfigs, which the safe `rdkafka` API lacks, through `rdkafka-sys`.
//! Every `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rd;

use super::ffi::{cstring, text, Failure, Owned};

/// Takes ownership of a returned `rd_kafka_error_t`, turning it into a failure.
fn take_error(err: *mut rd::rd_kafka_error_t) -> Result<(), Failure> {
    if err.is_null() {
        return Ok(());
    }
    // SAFETY: `err` is a non-null error object we own; we read it, then destroy it once.
    unsafe {
        let code = RDKafkaErrorCode::from(rd::rd_kafka_error_code(err));
        let text = text(rd::rd_kafka_error_string(err));
        rd::rd_kafka_error_destroy(err);
        Err((code, text))
    }
}

/// Sets and deletes configs of one topic; blocks until the broker answers or `timeout` passes.
pub(super) fn alter_topic(
    admin: &AdminClient<DefaultClientContext>,
    topic: &str,
    set: &BTreeMap<String, String>,
    delete: &[String],
    timeout: Duration,
) -> Result<(), Failure> {
    let rk = admin.inner().native_ptr();
    let topic = cstring(topic)?;
    let timeout_ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);

    // SAFETY: `rk` is the live client owned by `admin`, which outlives this call. Every object
    // created here is owned by an `Owned` guard (or passed to librdkafka, which copies it), all
    // C strings outlive the calls that read them, and the result event is read before it is
    // destroyed.
    unsafe {
        let queue = Owned { ptr: rd::rd_kafka_queue_new(rk), destroy: rd::rd_kafka_queue_destroy };
        let resource = Owned {
            ptr: rd::rd_kafka_ConfigResource_new(rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC, topic.as_ptr()),
            destroy: rd::rd_kafka_ConfigResource_destroy,
        };
        for (name, value) in set {
            let (name, value) = (cstring(name)?, cstring(value)?);
            take_error(rd::rd_kafka_ConfigResource_add_incremental_config(
                resource.ptr,
                name.as_ptr(),
                rd::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET,
                value.as_ptr(),
            ))?;
        }
        for name in delete {
            let name = cstring(name)?;
            take_error(rd::rd_kafka_ConfigResource_add_incremental_config(
                resource.ptr,
                name.as_ptr(),
                rd::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_DELETE,
                std::ptr::null(),
            ))?;
        }
        let options = Owned {
            ptr: rd::rd_kafka_AdminOptions_new(rk, rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS),
            destroy: rd::rd_kafka_AdminOptions_destroy,
        };
        let mut errstr = [0 as std::os::raw::c_char; 256];
        rd::rd_kafka_AdminOptions_set_request_timeout(options.ptr, timeout_ms, errstr.as_mut_ptr(), errstr.len());

        let mut resources = [resource.ptr];
        rd::rd_kafka_IncrementalAlterConfigs(rk, resources.as_mut_ptr(), 1, options.ptr, queue.ptr);

        let event = Owned {
            ptr: rd::rd_kafka_queue_poll(queue.ptr, timeout_ms.saturating_add(1000)),
            destroy: rd::rd_kafka_event_destroy,
        };
        if event.ptr.is_null() {
            return Err((RDKafkaErrorCode::OperationTimedOut, "no answer from the broker in time".into()));
        }
        let code = rd::rd_kafka_event_error(event.ptr);
        if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            let text = text(rd::rd_kafka_event_error_string(event.ptr));
            return Err((RDKafkaErrorCode::from(code), text));
        }
        let result = rd::rd_kafka_event_IncrementalAlterConfigs_result(event.ptr);
        if result.is_null() {
            return Err((RDKafkaErrorCode::Fail, "unexpected answer to IncrementalAlterConfigs".into()));
        }
        let mut count = 0usize;
        let answered = rd::rd_kafka_IncrementalAlterConfigs_result_resources(result, &mut count);
        for i in 0..count {
            let res = *answered.add(i);
            let code = rd::rd_kafka_ConfigResource_error(res);
            if code != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                return Err((RDKafkaErrorCode::from(code), text(rd::rd_kafka_ConfigResource_error_string(res))));
            }
        }
        Ok(())
    }
}
