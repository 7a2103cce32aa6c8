# A stream is imported by its topic name, <domain>.<product>.<name>.
terraform import datamesh_stream.order_events sales.orders.order-events
