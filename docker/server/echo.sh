#!/bin/sh
# Runs in the server's network namespace (network_mode: service:server) beside nginx:
# replies to the client LAN go back through sproxy, plus TCP/UDP echo on port 7 and iperf3 on 5201.
set -eu
ip route replace 10.9.1.0/24 via 10.9.3.3
ip route replace 10.9.2.0/24 via 10.9.3.3
ip route replace 10.9.4.0/24 via 10.9.3.3
socat -t 30 -T 300 TCP-LISTEN:7,reuseaddr,fork PIPE &
socat -T 60 UDP-LISTEN:7,reuseaddr,fork PIPE &
iperf3 --server --port 5201 &
echo "server-echo: tcp/7 udp/7 echo, iperf3 on 5201, routes via sproxy 10.9.3.3"
trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
wait
