# A data product is imported by its ID, <domain>/<name>.
terraform import datamesh_data_product.orders sales/orders
