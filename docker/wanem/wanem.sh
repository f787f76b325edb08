#!/bin/sh
# WAN emulator: routes between wan-a (cproxy side) and wan-b (sproxy side) and shapes both
# directions with tc netem (needs NET_ADMIN and sch_netem on the Docker host's kernel).
# WAN_DELAY (one way, per direction), WAN_LOSS, WAN_RATE come from docker-compose.yml.
set -eu
iface_of() { ip -o -4 addr show | awk -v a="$1" '{ split($4, p, "/"); if (p[1] == a) print $2 }'; }
for addr in 10.9.2.3 10.9.4.3; do
  dev=$(iface_of "$addr")
  if [ -z "$dev" ]; then echo "wanem: no interface has $addr" >&2; exit 1; fi
  tc qdisc replace dev "$dev" root netem delay "${WAN_DELAY:-25ms}" loss "${WAN_LOSS:-0.5%}" rate "${WAN_RATE:-100mbit}"
  echo "wanem: $dev ($addr): $(tc qdisc show dev "$dev" | head -1)"
done
# The LANs sit behind the relays.
ip route replace 10.9.1.0/24 via 10.9.2.2
ip route replace 10.9.3.0/24 via 10.9.4.2
echo "wanem: forwarding $(cat /proc/sys/net/ipv4/ip_forward); client LAN via cproxy 10.9.2.2, server LAN via sproxy 10.9.4.2"
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
