package net.wanrelay.core.peers;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.channel.PeerLink;
import net.wanrelay.core.config.PeerGroupConfig;
import net.wanrelay.core.config.PeerGroupConfig.Policy;
import net.wanrelay.discovery.PeerSelector;
import net.wanrelay.discovery.selection.HashRing;

/** The links of one peer group and the choice of a link for a session. Thread-safe. */
public final class PeerGroup {
  private final PeerGroupConfig config;
  private final List<PeerLink> links;
  private final HashRing<PeerLink> ring;

  public PeerGroup(PeerGroupConfig config, List<PeerLink> links) {
    this.config = config;
    this.links = List.copyOf(links);
    this.ring = new HashRing<>(this.links, PeerLink::name);
  }

  public String name() {
    return config.name();
  }

  public PeerGroupConfig config() {
    return config;
  }

  /** The links whose trunk is up, in the configured order. */
  public List<PeerLink> up() {
    List<PeerLink> l = new ArrayList<>(links.size());
    for (PeerLink p : links) {
      if (p.isUp()) {
        l.add(p);
      }
    }
    return l;
  }

  /**
   * The link for one session. Primary-first: the first that is up. Consistent hash: the owner of
   * (client address, target) on the ring among the links that are up. With none up, the first
   * choice regardless (the session then fails cleanly: "trunk down").
   */
  public PeerLink choose(InetSocketAddress client, InetSocketAddress target) {
    if (config.policy() == Policy.CONSISTENT_HASH) {
      String key = PeerSelector.sessionKey(client, target);
      PeerLink p = ring.pick(key, PeerLink::isUp);
      return p != null ? p : ring.pick(key, l -> true);
    }
    for (PeerLink p : links) {
      if (p.isUp()) {
        return p;
      }
    }
    return links.get(0);
  }
}
