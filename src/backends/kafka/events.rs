//! librdkafka's main queue: where it reports what happens outside any request. A failed SASL
//! login is reported only there; the request itself waits for a broker it can use until it
//! times out, so without reading this queue a wrong password looks like a broker that is down.
//! Nothing else reads the queue of an admin client, so its log lines are forwarded to tracing
//! here too (otherwise they pile up in it).
//! Every `unsafe` block says why it is sound.
#![allow(unsafe_code)]

use std::os::raw::{c_char, c_int};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka_sys as rd;

use super::ffi::text;

/// The admin client's main queue, read without blocking.
pub(super) struct MainQueue {
    queue: *mut rd::rd_kafka_queue_t,
    logins: Mutex<Logins>,
}

/// The last login failure reported since the last call that succeeded, and when.
#[derive(Default)]
struct Logins {
    last: Option<(Instant, String)>,
}

// SAFETY: librdkafka queues may be used from any thread; the pointer is only passed to its API,
// and the failure text is behind a mutex.
unsafe impl Send for MainQueue {}
// SAFETY: as above.
unsafe impl Sync for MainQueue {}

/// Whether librdkafka's code means the login itself failed.
pub(super) fn is_login_failure(code: RDKafkaErrorCode) -> bool {
    matches!(code, RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed)
}

impl MainQueue {
    /// The main queue of `admin`. It must be dropped before `admin` is (librdkafka waits for
    /// every queue reference before it destroys a client).
    pub(super) fn of(admin: &AdminClient<DefaultClientContext>) -> Self {
        // SAFETY: the client is live; the reference returned is released once, in `Drop`.
        let queue = unsafe { rd::rd_kafka_queue_get_main(admin.inner().native_ptr()) };
        Self { queue, logins: Mutex::new(Logins::default()) }
    }

    /// Reads every pending event; returns the last login failure reported since the last call
    /// that succeeded, and how long ago it was reported.
    pub(super) fn login_failure(&self) -> Option<(Duration, String)> {
        let mut logins = self.logins.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            // SAFETY: a non-blocking poll of our live queue reference; each event is read, then
            // destroyed exactly once, and the strings it lends are copied before that.
            unsafe {
                let event = rd::rd_kafka_queue_poll(self.queue, 0);
                if event.is_null() {
                    break;
                }
                match rd::rd_kafka_event_type(event) {
                    rd::RD_KAFKA_EVENT_ERROR => {
                        let code = RDKafkaErrorCode::from(rd::rd_kafka_event_error(event));
                        let text = text(rd::rd_kafka_event_error_string(event));
                        tracing::debug!(?code, %text, "librdkafka error");
                        if is_login_failure(code) {
                            logins.last = Some((Instant::now(), text));
                        }
                    }
                    rd::RD_KAFKA_EVENT_LOG => {
                        let (mut fac, mut msg, mut level): (*const c_char, *const c_char, c_int) =
                            (std::ptr::null(), std::ptr::null(), 0);
                        if rd::rd_kafka_event_log(event, &mut fac, &mut msg, &mut level) == 0 {
                            tracing::debug!(facility = %text(fac), level, "librdkafka: {}", text(msg));
                        }
                    }
                    _ => {}
                }
                rd::rd_kafka_event_destroy(event);
            }
        }
        logins.last.as_ref().map(|(at, text)| (at.elapsed(), text.clone()))
    }

    /// A call succeeded: an earlier login failure no longer holds.
    pub(super) fn succeeded(&self) {
        self.logins.lock().unwrap_or_else(|e| e.into_inner()).last = None;
    }
}

impl Drop for MainQueue {
    fn drop(&mut self) {
        // SAFETY: the reference from `rd_kafka_queue_get_main`, released exactly once.
        unsafe { rd::rd_kafka_queue_destroy(self.queue) }
    }
}
