# streamedge edge --tier shield: registers its own service (maintenance on drain), discovers
# passing origins, and its peer shields (keys are hashed among every shield).
service "streamedge-shield" {
  policy = "write"
}
service "streamedge-origin" {
  policy = "read"
}
# Health queries return each instance with its node; without node read they come back empty.
node_prefix "" {
  policy = "read"
}
