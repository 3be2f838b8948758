# streamedge edge: registers its own service (maintenance on drain) and discovers passing origins.
service "streamedge-edge" {
  policy = "write"
}
service "streamedge-origin" {
  policy = "read"
}
# Health queries return each instance with its node; without node read they come back empty.
node_prefix "" {
  policy = "read"
}
