package net.wanrelay.discovery;

import java.net.InetSocketAddress;

/** A TCP connection seen from the CP's probe socket: its local (client) and remote (server) ends. */
public record FourTuple(InetSocketAddress local, InetSocketAddress remote) {
  public FourTuple {
    if (local == null || remote == null || local.isUnresolved() || remote.isUnresolved()) {
      throw new IllegalArgumentException("resolved local and remote addresses required");
    }
  }
}
