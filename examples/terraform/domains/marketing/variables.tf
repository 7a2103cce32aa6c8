variable "name_prefix" {
  description = "The platform's name_prefix. Every team's root uses the same one: it names the shared catalog and prefixes buckets and roles."
  type        = string
  default     = "acme"
}

variable "domain" {
  description = "The marketing domain's name; also the first part of its Kafka topics, <domain>.<product>.<stream>."
  type        = string
  default     = "marketing"
}

variable "sales_domain" {
  description = "The sales team's domain, whose orders this root reads and to which it grants campaigns. It must exist: apply the sales root first."
  type        = string
  default     = "sales"
}
