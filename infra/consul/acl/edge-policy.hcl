# streamedge edge: registers its own service (maintenance on drain), discovers passing origins and
# the shields it fills from (and, with --sibling-hashing, its region's edges: covered by the write).
service "streamedge-edge" {
  policy = "write"
}
service "streamedge-origin" {
  policy = "read"
}
service "streamedge-shield" {
  policy = "read"
}
# Health queries return each instance with its node; without node read they come back empty.
node_prefix "" {
  policy = "read"
}
