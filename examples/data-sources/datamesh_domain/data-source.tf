data "datamesh_domain" "sales" {
  name = "sales"
}

# Another team's pipeline assumes the sales domain's role.
output "sales_role_arn" {
  value = data.datamesh_domain.sales.role_arn
}
