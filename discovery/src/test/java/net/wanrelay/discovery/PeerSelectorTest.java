package net.wanrelay.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PeerSelectorTest {
  private final InetSocketAddress a = new InetSocketAddress("10.9.2.2", 7800);
  private final InetSocketAddress b = new InetSocketAddress("10.9.2.3", 7800);
  private final InetSocketAddress c = new InetSocketAddress("10.9.2.4", 7800);
  private final InetSocketAddress server = new InetSocketAddress("10.9.3.2", 443);

  private static InetSocketAddress client(int i) {
    return new InetSocketAddress("10.1." + (i / 250) + "." + (i % 250 + 1), 40000);
  }

  @Test
  void primaryFirstKeepsTheSpOrderAndSkipsUnhealthy() {
    PeerSelector s = new PeerSelector(PeerSelector.Policy.PRIMARY_FIRST);
    assertThat(s.order(List.of(a, b, c), client(1), server, p -> true)).containsExactly(a, b, c);
    assertThat(s.order(List.of(a, b, c), client(1), server, p -> !p.equals(a))).containsExactly(b, c, a);
    assertThat(s.choose(List.of(), client(1), server, p -> true)).isNull();
  }

  @Test
  void consistentHashIsStableSpreadsAndMovesOnlyTheRemovedPeersSessions() {
    PeerSelector s = new PeerSelector(PeerSelector.Policy.CONSISTENT_HASH);
    Map<InetSocketAddress, Integer> counts = new HashMap<>();
    int moved = 0;
    for (int i = 0; i < 900; i++) {
      InetSocketAddress first = s.choose(List.of(a, b, c), client(i), server, p -> true);
      assertThat(s.choose(List.of(c, b, a), client(i), server, p -> true)).isEqualTo(first); // order-independent
      counts.merge(first, 1, Integer::sum);
      InetSocketAddress without = s.choose(List.of(a, c), client(i), server, p -> true);
      if (!first.equals(b)) {
        assertThat(without).isEqualTo(first); // sessions not on b stay where they were
      } else {
        moved++;
      }
      // an unhealthy choice falls to the next in the same ranking
      assertThat(s.choose(List.of(a, b, c), client(i), server, p -> !p.equals(first)))
          .isEqualTo(s.order(List.of(a, b, c), client(i), server, p -> true).get(1));
    }
    assertThat(counts.values()).allSatisfy(n -> assertThat(n).isBetween(200, 400));
    assertThat(moved).isEqualTo(counts.get(b));
  }
}
