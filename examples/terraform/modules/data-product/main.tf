# One data product as a domain team publishes it: its bucket and catalog entry, its
# streams, and the other domains it grants access to. The consumer domains must already
# exist: a grant puts its policy on the consumer's role.

resource "datamesh_data_product" "this" {
  domain         = var.domain
  name           = var.name
  description    = var.description
  classification = var.classification
  tags           = var.tags
}

resource "datamesh_stream" "this" {
  # Keyed by stream name, so reordering the list changes nothing.
  for_each = { for s in var.streams : s.name => s }

  data_product = datamesh_data_product.this.id
  name         = each.key
  partitions   = each.value.partitions
  retention_ms = each.value.retention_ms
}

resource "datamesh_access_grant" "this" {
  for_each = var.consumers

  consumer_domain = each.key
  data_product    = datamesh_data_product.this.id
  access          = each.value.access
  purpose         = each.value.purpose
  expires_at      = each.value.expires_at
}
