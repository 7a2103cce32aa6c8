//! Provider functions through `output` blocks, and their errors at the argument.

use crate::support::Tf;

#[test]
fn functions_compute_the_design_names() {
    let tf = Tf::new();
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
fn function_errors_point_at_the_argument() {
    let tf = Tf::new();
    tf.write(
        "output \"topic\" {\n  value = provider::datamesh::topic_name(\"sales\", \"orders\", \"Order.Events\")\n}\n",
    );
    let out = tf.plan_fails();
    let folded = out.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(folded.contains("\"stream\" parameter"), "names the argument: {out}");
    assert!(folded.contains("does not start with a lowercase letter"), "{out}");

    let tf = Tf::new();
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
