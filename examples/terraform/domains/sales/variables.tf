variable "name_prefix" {
  description = "The platform's name_prefix. Every team's root uses the same one: it names the shared catalog and prefixes buckets and roles."
  type        = string
  default     = "acme"
}

variable "domain" {
  description = "The sales domain's name; also the first part of its Kafka topics, <domain>.<product>.<stream>."
  type        = string
  default     = "sales"
}

variable "marketing_domain" {
  description = "The marketing team's domain, to grant it read access to orders. Leave null until the marketing root has created that domain: a grant puts its policy on the consumer's role."
  type        = string
  default     = null
}
