//! The `Action` trait (protocol 6.10, Terraform >= 1.14): something a configuration declares in
//! an `action` block and Terraform runs on request (`terraform apply -invoke=action.TYPE.NAME`,
//! or a resource's `action_trigger`), changing nothing in state; and [`Progress`], how a running
//! action tells the user what it is doing.

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::diag::Diagnostics;
use super::resource::ResourceContext;
use super::schema::Schema;
use super::value::Value;

/// Where a running action reports progress. Cheap to clone; each report reaches Terraform as it
/// is made, in order, before the invocation's final diagnostics.
#[derive(Debug, Clone)]
pub struct Progress {
    sink: Option<mpsc::UnboundedSender<String>>,
}

impl Progress {
    /// A handle and the receiving end of its reports. The server reads the receiver; an action's
    /// own tests can read it to see what the action said.
    pub fn channel() -> (Self, mpsc::UnboundedReceiver<String>) {
        let (sink, reports) = mpsc::unbounded_channel();
        (Self { sink: Some(sink) }, reports)
    }

    /// A handle whose reports go nowhere.
    pub fn discard() -> Self {
        Self { sink: None }
    }

    /// Shows `message` to the user now (one line of Terraform's output for this action).
    pub fn report(&self, message: impl Into<String>) {
        if let Some(sink) = &self.sink {
            // Fails only once nobody listens any more (Terraform went away, or the invocation is
            // over): the action's work is not the worse for it, so the report is dropped.
            let _ = sink.send(message.into());
        }
    }
}

/// An action type: declared in `action "TYPE" "NAME" { config { ... } }`, planned with the run
/// and invoked when Terraform asks. Diagnostic paths are relative to the `config` block.
#[async_trait]
pub trait Action<D: Send + Sync + 'static>: Send + Sync {
    /// The Terraform type name, like `example_notify`.
    fn type_name(&self) -> &'static str;

    /// The schema of its `config` block, built once by the provider.
    fn schema(&self) -> Schema;

    /// Checks the configuration alone (no provider configuration yet; values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Checks the configuration against the configured provider before the run (PlanAction);
    /// values may be unknown. Nothing may change here.
    async fn plan(&self, _ctx: &ResourceContext<D>, _config: &Value, _diags: &mut Diagnostics) {}

    /// Does the work, reporting through `progress` as it goes; problems go in `diags`. The
    /// framework does not abandon an invocation when Terraform calls StopProvider (like an apply,
    /// it may be half-way through a change): the action watches `ctx.stop` and winds down,
    /// saying in `diags` what it left undone.
    async fn invoke(&self, ctx: &ResourceContext<D>, config: &Value, progress: &Progress, diags: &mut Diagnostics);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_arrive_in_order_from_every_clone() {
        let (progress, mut reports) = Progress::channel();
        let other = progress.clone();
        progress.report("one");
        other.report(String::from("two"));
        assert_eq!(reports.try_recv().ok().as_deref(), Some("one"));
        assert_eq!(reports.try_recv().ok().as_deref(), Some("two"));
        assert!(reports.try_recv().is_err());
    }

    #[test]
    fn reporting_after_the_listener_left_is_harmless() {
        let (progress, reports) = Progress::channel();
        drop(reports);
        progress.report("nobody hears this");
        Progress::discard().report("nor this");
    }
}
