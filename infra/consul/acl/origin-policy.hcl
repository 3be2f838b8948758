# streamedge origin: registers (and keeps registered, and deregisters) its own service.
service "streamedge-origin" {
  policy = "write"
}
