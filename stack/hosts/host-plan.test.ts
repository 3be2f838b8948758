import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEMO_EDGES } from '../stack-topology.js';
import { HOSTS_SHIELDS, hostsLocationTable, planHosts, wanPorts } from './host-plan.js';

const REGIONS = [
  { name: 'us-east', lat: 39.04, lon: -77.49 },
  { name: 'eu-west', lat: 53.35, lon: -6.26 },
];

test('every service gets its own host on its region\'s subnet; Consul servers keep a quorum in the first region', () => {
  const plan = planHosts({ edges: DEMO_EDGES, shields: HOSTS_SHIELDS, regions: REGIONS, originCount: 2 });
  assert.deepEqual(
    plan.hosts.map((host) => [host.name, host.role, host.region, host.address]),
    [
      ['consul-1', 'consul-server', 'us-east', '10.77.1.2'],
      ['consul-2', 'consul-server', 'us-east', '10.77.1.3'],
      ['consul-3', 'consul-server', 'eu-west', '10.77.2.2'],
      ['balancer', 'balancer', 'us-east', '10.77.1.4'],
      ['origin-1', 'origin', 'us-east', '10.77.1.5'],
      ['origin-2', 'origin', 'eu-west', '10.77.2.3'],
      ['edge-1', 'edge', 'us-east', '10.77.1.6'],
      ['edge-2', 'edge', 'us-east', '10.77.1.7'],
      ['edge-3', 'edge', 'eu-west', '10.77.2.4'],
      ['shield-1', 'shield', 'us-east', '10.77.1.8'],
      ['shield-2', 'shield', 'eu-west', '10.77.2.5'],
    ],
  );
  assert.equal(new Set(plan.hosts.map((host) => host.namespace)).size, plan.hosts.length);
  assert.ok(plan.hosts.every((host) => host.namespace.startsWith(plan.prefix) && host.routerLink.length <= 15));
  assert.ok(plan.regions.every((region) => region.viewerLink.length <= 15));
  assert.deepEqual(wanPorts(plan), [8080, 8081, 8091, 8101, 8300, 8301, 8500]);
});

test('the balancer\'s location table places each region\'s viewers and hosts in it', () => {
  const table = hostsLocationTable(planHosts({ edges: DEMO_EDGES, regions: REGIONS, originCount: 2 }));
  assert.deepEqual(table.prefixes, [
    { cidr: '10.77.101.0/24', region: 'us-east' },
    { cidr: '10.77.1.0/24', region: 'us-east' },
    { cidr: '10.77.102.0/24', region: 'eu-west' },
    { cidr: '10.77.2.0/24', region: 'eu-west' },
  ]);
  assert.deepEqual(table.regions['eu-west'], { lat: 53.35, lon: -6.26 });
});

test('a topology hosts mode cannot build is refused with the reason', () => {
  assert.throws(() => planHosts({ edges: DEMO_EDGES, regions: REGIONS.slice(0, 1), originCount: 2 }), /exactly two regions/);
  assert.throws(() => planHosts({ edges: [{ id: 'edge-1', region: 'ap-south', lat: 0, lon: 0 }], regions: REGIONS, originCount: 1 }), /region "ap-south"/);
  assert.throws(() => planHosts({ edges: [{ id: 'Edge One', region: 'us-east', lat: 0, lon: 0 }], regions: REGIONS, originCount: 1 }), /host name/);
  assert.throws(() => planHosts({ edges: DEMO_EDGES, regions: REGIONS, originCount: 1, consulServers: 5 }), /three Consul servers/);
});
