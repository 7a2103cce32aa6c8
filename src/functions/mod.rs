//! `provider::datamesh::topic_name`, `bucket_name` and `data_product_id`: the naming rules as
//! functions, with the same validation errors, each pointing at its argument.

use crate::naming;
use tfplugin::framework::function::{Function, FunctionError};

/// Every function this provider offers.
pub fn all() -> Vec<Function> {
    vec![
        Function {
            name: "topic_name",
            summary: "The Kafka topic of a stream",
            description: "Returns `<domain>.<product>.<stream>`, the topic a `datamesh_stream` creates. Fails, naming the argument, when a name breaks its naming rule.",
            parameters: &[
                ("domain", "The domain name, `^[a-z][a-z0-9-]{1,30}$`."),
                ("product", "The data product name, `^[a-z][a-z0-9-]{1,40}$`."),
                ("stream", "The stream name, `^[a-z][a-z0-9_-]{0,48}$`."),
            ],
            call: topic_name,
        },
        Function {
            name: "bucket_name",
            summary: "The bucket of a data product",
            description: "Returns `<name_prefix>-<domain>-<product>`, the bucket a `datamesh_data_product` creates. Fails, naming the argument, when a name breaks its rule or the result is not a valid S3 bucket name.",
            parameters: &[
                ("name_prefix", "The provider's `name_prefix`, `[a-z][a-z0-9-]{1,15}`."),
                ("domain", "The domain name."),
                ("product", "The data product name."),
            ],
            call: bucket_name,
        },
        Function {
            name: "data_product_id",
            summary: "The ID of a data product",
            description: "Returns `<domain>/<product>`, the ID of a `datamesh_data_product` (and its import ID).",
            parameters: &[("domain", "The domain name."), ("product", "The data product name.")],
            call: data_product_id,
        },
    ]
}

/// Checks each argument against its rule, reporting the first that fails.
/// A naming rule: Ok, or a sentence that says how to fix the name.
type Rule = fn(&str) -> Result<(), String>;

fn check(args: &[String], rules: &[Rule]) -> Result<(), FunctionError> {
    if args.len() != rules.len() {
        return Err(FunctionError {
            argument: None,
            text: format!("Expected {} arguments, got {}.", rules.len(), args.len()),
        });
    }
    for (i, (arg, rule)) in args.iter().zip(rules).enumerate() {
        rule(arg).map_err(|text| FunctionError { argument: Some(i), text })?;
    }
    Ok(())
}

fn topic_name(args: &[String]) -> Result<String, FunctionError> {
    check(args, &[naming::check_domain, naming::check_data_product, naming::check_stream])?;
    Ok(naming::topic_name(&args[0], &args[1], &args[2]))
}

fn bucket_name(args: &[String]) -> Result<String, FunctionError> {
    check(args, &[naming::check_name_prefix, naming::check_domain, naming::check_data_product])?;
    let bucket = naming::bucket_name(&args[0], &args[1], &args[2]);
    // The names are fine one by one; the combination is the product name's to fix.
    naming::check_bucket_name(&bucket).map_err(|text| FunctionError { argument: Some(2), text })?;
    Ok(bucket)
}

fn data_product_id(args: &[String]) -> Result<String, FunctionError> {
    check(args, &[naming::check_domain, naming::check_data_product])?;
    Ok(naming::data_product_id(&args[0], &args[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: &[&str]) -> Result<String, FunctionError> {
        let f = all().into_iter().find(|f| f.name == name).unwrap();
        (f.call)(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn functions_follow_the_naming_rules() {
        assert_eq!(call("topic_name", &["sales", "orders", "events"]).unwrap(), "sales.orders.events");
        assert_eq!(call("bucket_name", &["acme", "sales", "orders"]).unwrap(), "acme-sales-orders");
        assert_eq!(call("data_product_id", &["sales", "orders"]).unwrap(), "sales/orders");
    }

    #[test]
    fn errors_point_at_the_argument() {
        assert_eq!(call("topic_name", &["sales", "Orders", "events"]).unwrap_err().argument, Some(1));
        assert_eq!(call("topic_name", &["sales", "orders", "ev.ents"]).unwrap_err().argument, Some(2));
        assert_eq!(call("bucket_name", &["ACME", "sales", "orders"]).unwrap_err().argument, Some(0));
        let long = call("bucket_name", &["acme", &"d".repeat(31), &"p".repeat(41)]).unwrap_err();
        assert_eq!(long.argument, Some(2));
        assert!(long.text.contains("63"), "{}", long.text);
        assert_eq!(call("data_product_id", &["sales"]).unwrap_err().argument, None);
    }

    #[test]
    fn every_parameter_is_described() {
        for f in all() {
            assert!(!f.summary.is_empty() && !f.description.is_empty());
            assert!(f.parameters.iter().all(|(n, d)| !n.is_empty() && !d.is_empty()));
        }
    }
}
