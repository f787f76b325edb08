package net.wanrelay.discovery.rules;

import java.net.InetAddress;

/**
 * An SP rule for probes: by the client's source prefix and the server's destination prefix and
 * port, answer (ACCEPT) or let the connection pass untouched (PASS_THROUGH).
 */
public record PeeringRule(Cidr source, Cidr destination, PortSet ports, Action action) {
  public enum Action { ACCEPT, PASS_THROUGH }

  public static final PeeringRule DEFAULT = new PeeringRule(Cidr.ANY_V4, Cidr.ANY_V4, PortSet.ANY, Action.ACCEPT);

  public PeeringRule {
    if (source == null || destination == null || ports == null || action == null) {
      throw new IllegalArgumentException("source, destination, ports and action are required");
    }
  }

  public static PeeringRule of(String src, String dst, String ports, Action action) {
    return new PeeringRule(src == null ? Cidr.ANY_V4 : Cidr.parse(src),
        dst == null ? Cidr.ANY_V4 : Cidr.parse(dst), PortSet.parse(ports), action);
  }

  public boolean matches(InetAddress src, InetAddress dst, int port) {
    return source.contains(src) && destination.contains(dst) && ports.contains(port);
  }
}
