variable "domain" {
  description = "The owning domain's name (a datamesh_domain declared by the calling team)."
  type        = string
}

variable "name" {
  description = "The data product's name, unique within its domain. Changing it replaces the product, its bucket and its streams."
  type        = string
}

variable "classification" {
  description = "Data classification, one of the platform's governance.allowed_classifications (by default public, internal, confidential, restricted)."
  type        = string
}

variable "description" {
  description = "What the product holds, shown in the catalog."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags on the product's bucket, merged over the provider's default_tags."
  type        = map(string)
  default     = {}
  nullable    = false
}

variable "streams" {
  description = "The product's Kafka streams. Each becomes the topic <domain>.<name>.<stream name>; partitions may only grow."
  type = list(object({
    name         = string
    partitions   = optional(number, 3)
    retention_ms = optional(number)
  }))
  default  = []
  nullable = false

  validation {
    condition     = length(distinct(var.streams[*].name)) == length(var.streams)
    error_message = "Stream names must be unique within a data product."
  }
}

variable "consumers" {
  description = "Other domains that may read the product, by consumer domain name. Each gets an access grant: access is read (default) or read_write; purpose is kept in the catalog for audit; expires_at (RFC 3339) makes IAM end the access then."
  type = map(object({
    access     = optional(string, "read")
    purpose    = string
    expires_at = optional(string)
  }))
  default  = {}
  nullable = false
}
