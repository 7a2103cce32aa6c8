# The sales team's repository, with its own state: the sales domain and the data products
# it publishes. The marketing team's repository (../marketing) discovers orders through the
# catalog, and sales grants it access. A grant needs its consumer's IAM role, and marketing
# looks sales' orders up, so the two roots are applied in this order:
#
#   1. here:      terraform apply                               # sales, orders, invoices
#   2. marketing: terraform apply                               # marketing, campaigns (granted to sales)
#   3. here:      terraform apply -var marketing_domain=marketing   # orders granted to marketing
#
# (In a real repository step 3 is a pull request setting marketing_domain in
# terraform.tfvars.) To take everything down, run it backwards: apply here without
# marketing_domain, destroy marketing, then destroy here. A domain whose role still
# carries another team's grant refuses to be destroyed, and says so.

terraform {
  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}

# Endpoints come from the environment (the local stack's stack.env sets AWS_ENDPOINT_URL
# and DATAMESH_KAFKA_BOOTSTRAP_SERVERS).
provider "datamesh" {
  name_prefix  = var.name_prefix
  default_tags = { managed_by = "terraform" }

  aws {
    s3_force_path_style = true
  }

  kafka {
    default_replication_factor = 1 # the local stack has one broker; its address and SCRAM login come from stack.env
  }
}

resource "datamesh_domain" "sales" {
  name        = var.domain
  owner       = "sales-team@example.com"
  description = "Orders, invoices and customers"
}

locals {
  # Keyed by module instance. A product's name is its key unless it sets `name`: to rename
  # a key without replacing the product, keep the old name and add a moved block.
  products = {
    orders = {
      description    = "Every order placed, one JSON document per order"
      classification = "internal"
      streams = [
        { name = "order-events", retention_ms = 604800000 }, # 7 days
        { name = "order-returns" },
      ]
      consumers = var.marketing_domain == null ? {} : {
        (var.marketing_domain) = { purpose = "Attribute revenue to campaigns" }
      }
    }

    invoices = {
      description    = "Invoices sent to customers"
      classification = "confidential"
      streams = [
        { name = "invoice-events", partitions = 6 },
      ]
      consumers = {}
    }
  }
}

module "product" {
  source   = "../../modules/data-product"
  for_each = local.products

  domain         = datamesh_domain.sales.name
  name           = try(each.value.name, each.key)
  description    = each.value.description
  classification = each.value.classification
  tags           = { cost_center = "sales-42" }
  streams        = each.value.streams
  consumers      = each.value.consumers
}
