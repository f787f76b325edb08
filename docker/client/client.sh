#!/bin/sh
# The client host: everything off its LAN goes through cproxy (needed for transparent mode and
# for the via: direct listener's return path; explicit listeners are addressed at 10.9.1.2 anyway).
set -eu
ip route replace default via 10.9.1.2
echo "client: default route via cproxy 10.9.1.2"
trap 'exit 0' TERM INT
while :; do sleep 3600 & wait $!; done
