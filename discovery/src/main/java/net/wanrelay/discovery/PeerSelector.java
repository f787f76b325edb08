package net.wanrelay.discovery;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import net.wanrelay.discovery.selection.HashRing;

/**
 * Orders the SPs of a probe response (a cluster) for one session: PRIMARY_FIRST keeps the SP's
 * own preference order; CONSISTENT_HASH walks a {@link HashRing} (virtual nodes) from the hash of
 * (client address, server address:port), so the same client/server pair lands on the same SP and
 * removing an SP moves only the pairs it owned. Unhealthy SPs go last, in the same order, as a
 * fallback. Thread-safe; the ring of the last peer list is kept (lists rarely change).
 */
public final class PeerSelector {
  public enum Policy { PRIMARY_FIRST, CONSISTENT_HASH }

  private final Policy policy;
  private volatile HashRing<InetSocketAddress> ring;

  public PeerSelector(Policy policy) {
    this.policy = policy;
  }

  /** The hash key of a session: client IP (not its port) and the server's address and port. */
  public static String sessionKey(InetSocketAddress client, InetSocketAddress server) {
    return (client == null ? "" : host(client)) + "|" + host(server) + ":" + server.getPort();
  }

  /** The peers in the order to try them for this session. */
  public List<InetSocketAddress> order(List<InetSocketAddress> peers, InetSocketAddress client,
      InetSocketAddress server, Predicate<InetSocketAddress> healthy) {
    List<InetSocketAddress> ordered = policy == Policy.CONSISTENT_HASH
        ? ringFor(peers).order(sessionKey(client, server)) : new ArrayList<>(peers);
    List<InetSocketAddress> out = new ArrayList<>(ordered.size());
    ordered.stream().filter(healthy).forEach(out::add);
    ordered.stream().filter(healthy.negate()).forEach(out::add);
    return out;
  }

  /** The first peer to try, or null for an empty list. */
  public InetSocketAddress choose(List<InetSocketAddress> peers, InetSocketAddress client, InetSocketAddress server,
      Predicate<InetSocketAddress> healthy) {
    List<InetSocketAddress> o = order(peers, client, server, healthy);
    return o.isEmpty() ? null : o.get(0);
  }

  private HashRing<InetSocketAddress> ringFor(List<InetSocketAddress> peers) {
    HashRing<InetSocketAddress> r = ring;
    if (r == null || !sameMembers(r.members(), peers)) {
      r = new HashRing<>(List.copyOf(new java.util.LinkedHashSet<>(peers)), PeerSelector::id);
      ring = r;
    }
    return r;
  }

  private static boolean sameMembers(List<InetSocketAddress> a, List<InetSocketAddress> b) {
    return a.size() == b.size() && a.containsAll(b);
  }

  private static String id(InetSocketAddress p) {
    return host(p) + ":" + p.getPort();
  }

  private static String host(InetSocketAddress a) {
    return a.getAddress() != null ? a.getAddress().getHostAddress() : a.getHostString();
  }
}
