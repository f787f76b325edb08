#!/bin/sh
# wanrelay container entrypoint.
#
# WANRELAY_ROUTES  optional, space-separated "CIDR=GATEWAY" pairs, e.g. "10.9.4.0/24=10.9.2.3".
#                  Installed with `ip route replace` before the relay starts; needs root + NET_ADMIN.
# WANRELAY_KEEP_ROOT=1  keep running as root (transparent mode: TPROXY / NFQUEUE need NET_ADMIN).
# WANRELAY_JAR     the relay jar (default /opt/wanrelay/wanrelay.jar, where the image puts it).
#
# Started as root (compose does this so it can add routes): routes are installed, then the relay
# runs as the unprivileged wanrelay user. Started as wanrelay (the image default): the relay
# just runs; WANRELAY_ROUTES is an error then, because nothing could install them.
set -eu

JAR=${WANRELAY_JAR:-/opt/wanrelay/wanrelay.jar}

if [ -n "${WANRELAY_ROUTES:-}" ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "wanrelay-entrypoint: WANRELAY_ROUTES is set but the container is not root; run it with user: \"0:0\" and cap_add: [NET_ADMIN]" >&2
    exit 64
  fi
  for pair in $WANRELAY_ROUTES; do
    net=${pair%%=*}
    gw=${pair#*=}
    if [ -z "$net" ] || [ -z "$gw" ] || [ "$net" = "$pair" ]; then
      echo "wanrelay-entrypoint: bad WANRELAY_ROUTES entry '$pair' (want CIDR=GATEWAY)" >&2
      exit 64
    fi
    ip route replace "$net" via "$gw"
    echo "wanrelay-entrypoint: route $net via $gw"
  done
fi

if [ "$(id -u)" = 0 ] && [ "${WANRELAY_KEEP_ROOT:-0}" != 1 ]; then
  # Changing uid away from 0 drops every capability; the relay needs none in explicit mode.
  export HOME=/var/lib/wanrelay
  exec setpriv --reuid=10001 --regid=10001 --clear-groups java -jar "$JAR" "$@"
fi
exec java -jar "$JAR" "$@"
