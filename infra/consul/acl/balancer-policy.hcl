# streamedge balancer: discovers passing edges; it registers nothing.
service "streamedge-edge" {
  policy = "read"
}
# Health queries return each instance with its node; without node read they come back empty.
node_prefix "" {
  policy = "read"
}
