package net.wanrelay.core.transparent;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetSocketAddress;
import java.util.Comparator;
import net.wanrelay.discovery.pmt.PeerMappingTable;
import net.wanrelay.discovery.pmt.PmtEntry;
import net.wanrelay.discovery.pmt.PmtKey;
import net.wanrelay.discovery.pmt.PmtState;

/** The PMT as JSON for the admin API: {"entries":[{server, port, state, peers, expires_in_seconds}]}. */
public final class PmtJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private PmtJson() {}

  public static String render(PeerMappingTable pmt, long nowNanos) {
    ObjectNode root = MAPPER.createObjectNode();
    ArrayNode entries = root.putArray("entries");
    pmt.snapshot().stream()
        .sorted(Comparator.comparing((PmtEntry e) -> e.key().server().getHostAddress()).thenComparingInt(e -> e.key().port()))
        .forEach(e -> {
          ObjectNode n = entries.addObject();
          n.put("server", e.key().server().getHostAddress());
          if (e.key().port() == PmtKey.ANY_PORT) {
            n.putNull("port");
          } else {
            n.put("port", e.key().port());
          }
          n.put("state", e.state().label());
          ArrayNode peers = n.putArray("peers");
          for (InetSocketAddress p : e.peers()) {
            peers.add(p.getAddress().getHostAddress() + ":" + p.getPort());
          }
          if (e.state() == PmtState.STATIC) {
            n.putNull("expires_in_seconds");
          } else {
            n.put("expires_in_seconds", Math.max(0, (e.expiresAtNanos() - nowNanos) / 1_000_000_000L));
          }
        });
    return root.toString();
  }
}
