# A grant is imported by its ID, <consumer_domain>:<domain>/<product>.
terraform import datamesh_access_grant.marketing_orders marketing:sales/orders
