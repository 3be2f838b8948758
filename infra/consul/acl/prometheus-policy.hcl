# Prometheus's discovery (consul_sd_configs, or `streamedge consul-targets`): reads the catalog of
# every streamedge service and the nodes they run on.
service_prefix "streamedge-" {
  policy = "read"
}
node_prefix "" {
  policy = "read"
}
