# Consul server (one of three). Install to /etc/consul.d/server.hcl on each server host, with
# encrypt.hcl beside it (see README.md). Three servers: Raft needs a majority (2 of 3), so the
# cluster survives losing any one server; five survive two but every write waits for three.
datacenter = "dc1"
data_dir   = "/var/lib/consul"
server     = true
# No leader is elected until three servers have joined; then the cluster forms by itself.
bootstrap_expect = 3

# Gossip and RPC on the host's private address; the HTTP API on loopback only (services and
# Prometheus talk to their local agent).
bind_addr   = "{{ GetPrivateIP }}"
client_addr = "127.0.0.1"
retry_join  = ["consul-1.internal", "consul-2.internal", "consul-3.internal"]

# A server keeps its Raft membership across restarts.
leave_on_terminate = false

ui_config {
  enabled = true
}

performance {
  raft_multiplier = 1
}

ports {
  http     = 8500
  dns      = 8600
  server   = 8300
  serf_lan = 8301
  serf_wan = 8302
  grpc     = -1
}

telemetry {
  prometheus_retention_time = "60s"
  disable_hostname          = true
}

log_level = "INFO"
