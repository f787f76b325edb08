package net.wanrelay.discovery.pmt;

import java.net.InetAddress;

/**
 * A PMT key: a server address, with a port when the table learns per port ({@link #ANY_PORT}
 * otherwise).
 */
public record PmtKey(InetAddress server, int port) {
  public static final int ANY_PORT = 0;

  public PmtKey {
    if (server == null) {
      throw new IllegalArgumentException("server address required");
    }
    if (port < 0 || port > 0xffff) {
      throw new IllegalArgumentException("port must be 0..65535, was " + port);
    }
  }

  public static PmtKey of(InetAddress server) {
    return new PmtKey(server, ANY_PORT);
  }

  @Override
  public String toString() {
    return server.getHostAddress() + (port == ANY_PORT ? "" : ":" + port);
  }
}
