package net.wanrelay.core.transparent;

import net.wanrelay.discovery.PeerSelector;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.function.Predicate;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.discovery.pmt.PmtEntry;
import net.wanrelay.discovery.rules.InPathRule;
import net.wanrelay.discovery.rules.InPathRules;

/**
 * Decides, for an intercepted connection's original destination, where it goes (CP side): the
 * first in-path rule that matches, and for auto-discover what the PMT knows. Pure decision, no
 * I/O, so it is tested without sockets.
 */
public final class InPathRouter {
  /** Where a connection goes. */
  public sealed interface Decision {
    /** Refused with a RST (in-path rule deny). */
    record Deny() implements Decision {}

    /** Straight to the server (from the client's address when transparent-source). */
    record PassThrough(String why) implements Decision {}

    /** Over the trunk to a configured peer (fixed-target). */
    record NamedPeer(String peer) implements Decision {}

    /** Over the trunk to an SP learned by discovery (or a static PMT entry). */
    record DiscoveredPeer(InetSocketAddress sp) implements Decision {}

    /** Nothing known yet: probe on the connection's own SYN. */
    record Probe() implements Decision {}
  }

  private final InPathRules rules;
  private final PeerMappingTable pmt;
  private final Predicate<String> namedPeerUp;
  private final Predicate<InetSocketAddress> spUp;
  private final PeerSelector selector;

  /**
   * @param namedPeerUp whether the trunk to a configured peer is up (fixed-target backup choice)
   * @param spUp whether the trunk to a learned SP is up (first live SP of a cluster wins)
   */
  public InPathRouter(InPathRules rules, PeerMappingTable pmt, Predicate<String> namedPeerUp,
      Predicate<InetSocketAddress> spUp) {
    this(rules, pmt, namedPeerUp, spUp, new PeerSelector(PeerSelector.Policy.PRIMARY_FIRST));
  }

  /**
   * @param selector how an SP of a cluster is chosen: primary-first (the first live SP) or by
   *     consistent hash of (client address, server) over the SP list (live SPs only)
   */
  public InPathRouter(InPathRules rules, PeerMappingTable pmt, Predicate<String> namedPeerUp,
      Predicate<InetSocketAddress> spUp, PeerSelector selector) {
    this.selector = selector;
    this.rules = rules;
    this.pmt = pmt;
    this.namedPeerUp = namedPeerUp;
    this.spUp = spUp;
  }

  public Decision decide(InetSocketAddress destination) {
    return decide(destination, null);
  }

  /** The decision for a connection from {@code client} (null: unknown, primary-first order). */
  public Decision decide(InetSocketAddress destination, InetSocketAddress client) {
    InPathRule rule = rules.match(destination.getAddress(), destination.getPort());
    return switch (rule.action()) {
      case DENY -> new Decision.Deny();
      case PASS_THROUGH -> new Decision.PassThrough("in-path rule");
      case FIXED_TARGET -> new Decision.NamedPeer(
          rule.backup() != null && !namedPeerUp.test(rule.peer()) && namedPeerUp.test(rule.backup())
              ? rule.backup() : rule.peer());
      case AUTO_DISCOVER -> fromPmt(destination, client);
    };
  }

  private Decision fromPmt(InetSocketAddress destination, InetSocketAddress client) {
    PmtEntry e = pmt.lookup(destination.getAddress(), destination.getPort());
    return switch (e.state()) {
      case PEER, STATIC -> new Decision.DiscoveredPeer(pick(e.peers(), client, destination));
      case NO_PEER -> new Decision.PassThrough("pmt no_peer");
      case HOLD_DOWN -> new Decision.PassThrough("pmt hold_down");
      case UNKNOWN -> new Decision.Probe();
    };
  }

  /** The first SP whose trunk is up, else the primary (its trunk is then being connected). */
  InetSocketAddress pick(List<InetSocketAddress> peers) {
    return pick(peers, null, null);
  }

  /**
   * The SP for one connection, by the selector: the first (primary-first) or the ring owner of
   * (client, server) (consistent-hash) among the SPs whose trunk is up; with none up, the first
   * in that order (its trunk is then being connected).
   */
  InetSocketAddress pick(List<InetSocketAddress> peers, InetSocketAddress client, InetSocketAddress server) {
    if (server == null) {
      for (InetSocketAddress p : peers) {
        if (spUp.test(p)) {
          return p;
        }
      }
      return peers.get(0);
    }
    return selector.choose(peers, client, server, spUp);
  }

  public PeerMappingTable pmt() {
    return pmt;
  }
}
