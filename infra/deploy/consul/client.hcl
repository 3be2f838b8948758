# Consul client agent on every streamedge host (origin, edge, balancer, Prometheus). Install to
# /etc/consul.d/client.hcl with encrypt.hcl beside it (see README.md). The services register with
# this agent on 127.0.0.1:8500; it checks them locally and gossips their health to the servers.
datacenter = "dc1"
data_dir   = "/var/lib/consul"
server     = false

bind_addr   = "{{ GetPrivateIP }}"
client_addr = "127.0.0.1"
retry_join  = ["consul-1.internal", "consul-2.internal", "consul-3.internal"]

# A stopped client leaves at once, so its services disappear instead of turning critical.
leave_on_terminate = true

ports {
  http     = 8500
  dns      = 8600
  serf_lan = 8301
  grpc     = -1
}

log_level = "INFO"
