//! Provider functions through `output` blocks, and their errors at the argument, with
//! Terraform and with OpenTofu.

use crate::support::Tf;

/// The functions' answers, applied as outputs in `tf`.
fn design_names(tf: Tf) {
    tf.write(
        r#"output "topic" {
  value = provider::datamesh::topic_name("sales", "orders", "order-events")
}

output "bucket" {
  value = provider::datamesh::bucket_name("acme", "sales", "orders")
}

output "id" {
  value = provider::datamesh::data_product_id("sales", "orders")
}
"#,
    );
    tf.apply();
    let out = tf.run(&["output", "-json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["topic"]["value"], "sales.orders.order-events");
    assert_eq!(json["bucket"]["value"], "acme-sales-orders");
    assert_eq!(json["id"]["value"], "sales/orders");
}

#[test]
fn functions_compute_the_design_names() {
    design_names(Tf::new());
}

#[test]
fn functions_compute_the_design_names_with_opentofu() {
    design_names(Tf::tofu());
}

/// A bad argument fails the plan at that argument; `new` makes each directory (one CLI).
fn errors_at_the_argument(new: fn() -> Tf) {
    let tf = new();
    tf.write(
        "output \"topic\" {\n  value = provider::datamesh::topic_name(\"sales\", \"orders\", \"Order.Events\")\n}\n",
    );
    let out = tf.plan_fails();
    let folded = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(folded.contains("\"stream\" parameter"), "names the argument: {out}");
    assert!(folded.contains("does not start with a lowercase letter"), "{out}");

    let tf = new();
    tf.write(&format!(
        "output \"bucket\" {{\n  value = provider::datamesh::bucket_name(\"acme\", \"{}\", \"{}\")\n}}\n",
        "d".repeat(31),
        "p".repeat(41)
    ));
    let out = tf.plan_fails();
    let folded = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(folded.contains("\"product\" parameter"), "{out}");
    assert!(folded.contains("63 characters"), "{out}");
}

#[test]
fn function_errors_point_at_the_argument() {
    errors_at_the_argument(Tf::new);
}

#[test]
fn function_errors_point_at_the_argument_with_opentofu() {
    errors_at_the_argument(Tf::tofu);
}
