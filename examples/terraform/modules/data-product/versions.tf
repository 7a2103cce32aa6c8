terraform {
  # optional() object attributes with defaults.
  required_version = ">= 1.3"

  required_providers {
    datamesh = {
      source = "datamesh/datamesh"
    }
  }
}
