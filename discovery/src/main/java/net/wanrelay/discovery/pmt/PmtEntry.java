package net.wanrelay.discovery.pmt;

import java.net.InetSocketAddress;
import java.util.List;

/**
 * One PMT entry.
 *
 * @param key the server (and port)
 * @param state what is known
 * @param peers the SPs for PEER and STATIC (primary first), empty otherwise
 * @param expiresAtNanos clock value after which the entry no longer holds; Long.MAX_VALUE for STATIC
 */
public record PmtEntry(PmtKey key, PmtState state, List<InetSocketAddress> peers, long expiresAtNanos) {
  public PmtEntry {
    peers = List.copyOf(peers);
  }

  static PmtEntry unknown(PmtKey key) {
    return new PmtEntry(key, PmtState.UNKNOWN, List.of(), 0);
  }

  public boolean expiredAt(long nowNanos) {
    return state != PmtState.STATIC && nowNanos - expiresAtNanos >= 0;
  }
}
