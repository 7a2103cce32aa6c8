# `terraform query` lists every stream in the catalog (leave out `domain` for all domains).
list "datamesh_stream" "all" {
  provider = datamesh
}
