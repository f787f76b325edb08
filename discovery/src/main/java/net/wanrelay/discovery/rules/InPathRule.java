package net.wanrelay.discovery.rules;

import java.net.InetAddress;

/**
 * A CP rule for intercepted connections, matched by destination prefix and port.
 *
 * @param destination destination prefix (ANY_V4 for all)
 * @param ports destination ports (PortSet.ANY for all)
 * @param action what to do
 * @param peer the fixed-target peer name (FIXED_TARGET only)
 * @param backup the fixed-target backup peer name, or null
 */
public record InPathRule(Cidr destination, PortSet ports, Action action, String peer, String backup) {
  public enum Action { AUTO_DISCOVER, FIXED_TARGET, PASS_THROUGH, DENY }

  public static final InPathRule DEFAULT = new InPathRule(Cidr.ANY_V4, PortSet.ANY, Action.AUTO_DISCOVER, null, null);

  public InPathRule {
    if (destination == null || ports == null || action == null) {
      throw new IllegalArgumentException("destination, ports and action are required");
    }
    if (action == Action.FIXED_TARGET && (peer == null || peer.isBlank())) {
      throw new IllegalArgumentException("fixed-target needs a peer");
    }
    if (action != Action.FIXED_TARGET && (peer != null || backup != null)) {
      throw new IllegalArgumentException("only fixed-target takes a peer/backup, not " + action);
    }
  }

  public static InPathRule of(String cidr, String ports, Action action) {
    return new InPathRule(Cidr.parse(cidr), PortSet.parse(ports), action, null, null);
  }

  public static InPathRule fixedTarget(String cidr, String ports, String peer, String backup) {
    return new InPathRule(Cidr.parse(cidr), PortSet.parse(ports), Action.FIXED_TARGET, peer, backup);
  }

  public boolean matches(InetAddress dst, int port) {
    return destination.contains(dst) && ports.contains(port);
  }
}
