package net.wanrelay.core.config;

import java.time.Duration;
import java.util.List;

/**
 * A group of trunk peers (the SPs of one site) that a listener uses with {@code via: group:NAME}.
 * {@code peers} are names under {@code trunk.peers}, in preference order.
 */
public record PeerGroupConfig(String name, List<String> peers, Policy policy, Duration raceTimeout) {
  /**
   * PRIMARY_FIRST: the first peer whose trunk is up. CONSISTENT_HASH: a hash ring over the peers
   * keyed by (client address, target), skipping peers that are down. RACE: OPEN to every peer that
   * is up, the first OPEN_ACK wins, the others are reset (TCP only).
   */
  public enum Policy { PRIMARY_FIRST, CONSISTENT_HASH, RACE }
}
