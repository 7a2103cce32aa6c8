data "datamesh_stream" "order_events" {
  topic = "sales.orders.order-events"
}

output "order_events_partitions" {
  value = data.datamesh_stream.order_events.partitions
}
