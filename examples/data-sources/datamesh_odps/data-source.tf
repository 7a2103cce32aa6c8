# sales/orders as an Open Data Product Standard v1.1.0 document, for a catalog or marketplace
# that reads the standard.
data "datamesh_odps" "orders" {
  data_product = "sales/orders"
}

output "orders_odps" {
  value = data.datamesh_odps.orders.document
}

# Its output ports, by name and type: storage ports and streams.
output "orders_ports" {
  value = [for port in jsondecode(data.datamesh_odps.orders.document).outputPorts : "${port.name} (${port.type})"]
}
