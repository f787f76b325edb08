package net.wanrelay.discovery;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Predicate;

/**
 * Orders the SPs of a probe response (a cluster) for one session: PRIMARY_FIRST keeps the SP's
 * own preference order; CONSISTENT_HASH uses rendezvous hashing of (client address, server), so
 * the same client/server pair lands on the same SP and only the sessions of a removed SP move.
 * Unhealthy SPs go last, in the same order, as a fallback.
 */
public final class PeerSelector {
  public enum Policy { PRIMARY_FIRST, CONSISTENT_HASH }

  private final Policy policy;

  public PeerSelector(Policy policy) {
    this.policy = policy;
  }

  /** The peers in the order to try them for this session. */
  public List<InetSocketAddress> order(List<InetSocketAddress> peers, InetSocketAddress client,
      InetSocketAddress server, Predicate<InetSocketAddress> healthy) {
    List<InetSocketAddress> ordered = new ArrayList<>(peers);
    if (policy == Policy.CONSISTENT_HASH) {
      String session = (client == null ? "" : client.getAddress().getHostAddress()) + "|"
          + server.getAddress().getHostAddress() + ":" + server.getPort();
      ordered.sort(Comparator.comparingLong((InetSocketAddress p) -> weight(session, p)).reversed()
          .thenComparing(InetSocketAddress::toString));
    }
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

  /** A 64-bit mix (FNV-1a then a finalizer) of session and peer: stable across runs and JVMs. */
  static long weight(String session, InetSocketAddress peer) {
    byte[] a = session.getBytes(StandardCharsets.UTF_8);
    byte[] ip = peer.getAddress().getAddress();
    ByteBuffer b = ByteBuffer.allocate(a.length + ip.length + 4).put(a).put(ip).putInt(peer.getPort());
    long h = 0xcbf29ce484222325L;
    for (byte x : b.array()) {
      h ^= x & 0xff;
      h *= 0x100000001b3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    h *= 0xc4ceb9fe1a85ec53L;
    h ^= h >>> 33;
    return h;
  }
}
