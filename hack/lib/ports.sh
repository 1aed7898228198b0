# shellcheck shell=bash
# The test bed's fixed ports, sourced by hack/testbed and hack/testbed-node.
#
# All below Linux's ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by default): an
# outgoing connection takes its local port from that range, and so could hold one of these at
# the moment a server binds it ("address already in use" for no visible reason).
# shellcheck disable=SC2034  # each script uses its own subset
PG_PORT=25432
MARIADB_PORT=23306
REDIS_PORT=26379
KAFKA_PORT=29092
KAFKA_CONTROLLER_PORT=29093
# Kafka's listener for pods on hack/testbed-node's bridge: bound on 127.0.0.1, advertised as the
# bridge's host address (10.245.0.1), where hack/testbed-node forwards it.
KAFKA_BRIDGE_PORT=29094
KUBE_API_PORT=26443
FERRETDB_PORT=27117
FERRETDB_DEBUG_PORT=27118
ELASTICSEARCH_PORT=29200
ELASTICSEARCH_TRANSPORT_PORT=29300
S3_PORT=29010
CLAMD_PORT=23310
# Mailpit: SMTP, and HTTP for its REST API.
MAILPIT_SMTP_PORT=21025
MAILPIT_HTTP_PORT=28025
ETCD_PORT=22379
ETCD_PEER_PORT=22380
KCM_PORT=20257
SCHEDULER_PORT=20259
KWOK_PORT=20250
# hack/testbed-node's CoreDNS (DNS itself on the bridge address, port 53): health and readiness.
COREDNS_HEALTH_PORT=20253
COREDNS_READY_PORT=20254

# Not a port, but shared the same way: the host's address on hack/testbed-node's bridge (qcnode0),
# where pods reach the test bed's servers (forwarded there by hack/testbed-node) and Kafka's
# BRIDGE listener is advertised.
NODE_BRIDGE_IP=10.245.0.1
