# streamedge balancer: discovers passing edges (and shows the shields on /status); it registers nothing.
service "streamedge-edge" {
  policy = "read"
}
service "streamedge-shield" {
  policy = "read"
}
# Health queries return each instance with its node; without node read they come back empty.
node_prefix "" {
  policy = "read"
}
