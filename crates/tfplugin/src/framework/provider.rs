//! The `Provider` trait, what a provider hands the framework, and [`Registry`], what the server
//! keeps of it: every type it offers with its schema, built once.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::action::Action;
use super::diag::Diagnostics;
use super::function::Function;
use super::resource::{DataSource, EphemeralResource, ListResource, Resource};
use super::schema::Schema;
use super::value::Value;

/// A provider: its configuration, and the resources, data sources, ephemeral resources, list
/// resources, functions and actions it offers. The server asks for each list once, at start-up.
pub trait Provider: Send + Sync + 'static {
    /// What every call receives in [`ResourceContext::provider`](super::ResourceContext): the
    /// provider's settings and clients, made from its configuration.
    type Data: Send + Sync + 'static;

    /// The schema of the provider block.
    fn schema(&self) -> Schema;

    /// Checks the provider block (values may be unknown).
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Makes the data later calls see from the provider block (ConfigureProvider); `stop` is
    /// cancelled when Terraform calls StopProvider. Report problems in `diags`.
    fn configure(&self, config: &Value, stop: CancellationToken, diags: &mut Diagnostics) -> Self::Data;

    /// The data calls see when Terraform never configured the provider (`terraform validate`).
    fn unconfigured(&self) -> Self::Data;

    /// The managed resource types.
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Data>>>;

    /// The data sources.
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Data>>> {
        Vec::new()
    }

    /// The ephemeral resources (protocol 6.7, Terraform >= 1.10).
    fn ephemeral_resources(&self) -> Vec<Arc<dyn EphemeralResource<Self::Data>>> {
        Vec::new()
    }

    /// The list resources, for `terraform query` (protocol 6.9, Terraform >= 1.14).
    fn list_resources(&self) -> Vec<Arc<dyn ListResource<Self::Data>>> {
        Vec::new()
    }

    /// The provider functions (protocol 6.5, Terraform >= 1.8).
    fn functions(&self) -> Vec<Function> {
        Vec::new()
    }

    /// The actions, for `action` blocks (protocol 6.10, Terraform >= 1.14).
    fn actions(&self) -> Vec<Arc<dyn Action<Self::Data>>> {
        Vec::new()
    }
}

/// One registered type and its schema.
type Entry<T> = (Arc<T>, Schema);

/// A registered type and its schema, as looked up.
pub type Found<'a, T> = (&'a Arc<T>, &'a Schema);

/// Everything a provider offers, by type name, each schema built once.
pub struct Registry<D: Send + Sync + 'static> {
    schema: Schema,
    resources: BTreeMap<&'static str, Entry<dyn Resource<D>>>,
    data_sources: BTreeMap<&'static str, Entry<dyn DataSource<D>>>,
    ephemeral: BTreeMap<&'static str, Entry<dyn EphemeralResource<D>>>,
    lists: BTreeMap<&'static str, Entry<dyn ListResource<D>>>,
    functions: Vec<Function>,
    actions: BTreeMap<&'static str, Entry<dyn Action<D>>>,
}

impl<D: Send + Sync + 'static> Registry<D> {
    /// Asks `provider` for everything it offers.
    pub fn new<P: Provider<Data = D> + ?Sized>(provider: &P) -> Self {
        Self {
            schema: provider.schema(),
            resources: provider.resources().into_iter().map(|r| (r.type_name(), (r.clone(), r.schema()))).collect(),
            data_sources: provider
                .data_sources()
                .into_iter()
                .map(|d| (d.type_name(), (d.clone(), d.schema())))
                .collect(),
            ephemeral: provider
                .ephemeral_resources()
                .into_iter()
                .map(|e| (e.type_name(), (e.clone(), e.schema())))
                .collect(),
            lists: provider.list_resources().into_iter().map(|l| (l.type_name(), (l.clone(), l.schema()))).collect(),
            functions: provider.functions(),
            actions: provider.actions().into_iter().map(|a| (a.type_name(), (a.clone(), a.schema()))).collect(),
        }
    }

    /// The provider block's schema.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Every resource with its schema.
    pub fn resources(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn Resource<D>>, &Schema)> {
        self.resources.iter().map(|(n, (r, s))| (*n, r, s))
    }

    /// One resource and its schema.
    pub fn resource(&self, name: &str) -> Option<Found<'_, dyn Resource<D>>> {
        self.resources.get(name).map(|(r, s)| (r, s))
    }

    /// Every data source with its schema.
    pub fn data_sources(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn DataSource<D>>, &Schema)> {
        self.data_sources.iter().map(|(n, (d, s))| (*n, d, s))
    }

    /// One data source and its schema.
    pub fn data_source(&self, name: &str) -> Option<Found<'_, dyn DataSource<D>>> {
        self.data_sources.get(name).map(|(d, s)| (d, s))
    }

    /// Every ephemeral resource with its schema.
    pub fn ephemeral_resources(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn EphemeralResource<D>>, &Schema)> {
        self.ephemeral.iter().map(|(n, (e, s))| (*n, e, s))
    }

    /// One ephemeral resource and its schema.
    pub fn ephemeral_resource(&self, name: &str) -> Option<Found<'_, dyn EphemeralResource<D>>> {
        self.ephemeral.get(name).map(|(e, s)| (e, s))
    }

    /// Every list resource with the schema of its `config` block.
    pub fn list_resources(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn ListResource<D>>, &Schema)> {
        self.lists.iter().map(|(n, (l, s))| (*n, l, s))
    }

    /// One list resource and its config schema.
    pub fn list_resource(&self, name: &str) -> Option<Found<'_, dyn ListResource<D>>> {
        self.lists.get(name).map(|(l, s)| (l, s))
    }

    /// Every function.
    pub fn functions(&self) -> &[Function] {
        &self.functions
    }

    /// One function.
    pub fn function(&self, name: &str) -> Option<&Function> {
        self.functions.iter().find(|f| f.name == name)
    }

    /// Every action with the schema of its `config` block.
    pub fn actions(&self) -> impl Iterator<Item = (&'static str, &Arc<dyn Action<D>>, &Schema)> {
        self.actions.iter().map(|(n, (a, s))| (*n, a, s))
    }

    /// One action and its config schema.
    pub fn action(&self, name: &str) -> Option<Found<'_, dyn Action<D>>> {
        self.actions.get(name).map(|(a, s)| (a, s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::{Action, Attribute, Block, Progress, ResourceContext, Type};

    struct Ping;

    #[async_trait::async_trait]
    impl Action<()> for Ping {
        fn type_name(&self) -> &'static str {
            "test_ping"
        }
        fn schema(&self) -> Schema {
            Schema::new(Block::new("Pings.", vec![Attribute::required("host", Type::String, "Whom.")]))
        }
        async fn invoke(&self, _: &ResourceContext<()>, _: &Value, progress: &Progress, _: &mut Diagnostics) {
            progress.report("pong");
        }
    }

    /// Offers `test_ping` and nothing else.
    struct Bare;

    impl Provider for Bare {
        type Data = ();
        fn schema(&self) -> Schema {
            Schema::new(Block::new("", vec![]))
        }
        fn configure(&self, _: &Value, _: CancellationToken, _: &mut Diagnostics) {}
        fn unconfigured(&self) {}
        fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
            Vec::new()
        }
        fn actions(&self) -> Vec<Arc<dyn Action<()>>> {
            vec![Arc::new(Ping)]
        }
    }

    #[test]
    fn the_registry_keeps_each_action_with_its_schema() {
        let registry = Registry::new(&Bare);
        let listed: Vec<(&str, usize)> = registry.actions().map(|(n, _, s)| (n, s.block.attributes.len())).collect();
        assert_eq!(listed, [("test_ping", 1)]);
        let (action, schema) = registry.action("test_ping").unwrap();
        assert_eq!(action.type_name(), "test_ping");
        assert!(schema.block.attribute("host").is_some_and(|a| a.required));
        assert!(registry.action("test_pong").is_none());
    }

    #[test]
    fn a_provider_offers_no_actions_unless_it_says_so() {
        struct Quiet;
        impl Provider for Quiet {
            type Data = ();
            fn schema(&self) -> Schema {
                Schema::new(Block::new("", vec![]))
            }
            fn configure(&self, _: &Value, _: CancellationToken, _: &mut Diagnostics) {}
            fn unconfigured(&self) {}
            fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
                Vec::new()
            }
        }
        assert_eq!(Registry::new(&Quiet).actions().count(), 0);
    }
}
