package net.wanrelay.discovery.selection;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HashRingTest {
  private static final List<String> SPS = List.of("sp-a", "sp-b", "sp-c");

  private static String pair(int i) {
    return "10.1." + (i / 250) + "." + (i % 250 + 1) + "|10.9.3.2:443";
  }

  @Test
  void samePairSameMemberAndRemovingOneMovesOnlyItsShare() {
    HashRing<String> three = new HashRing<>(SPS, s -> s);
    HashRing<String> rebuilt = new HashRing<>(List.of("sp-c", "sp-a", "sp-b"), s -> s);
    HashRing<String> withoutB = new HashRing<>(List.of("sp-a", "sp-c"), s -> s);
    Map<String, Integer> share = new HashMap<>();
    int moved = 0;
    int kept = 0;
    for (int i = 0; i < 1000; i++) {
      String owner = three.pick(pair(i), m -> true);
      assertThat(three.pick(pair(i), m -> true)).isEqualTo(owner);
      assertThat(rebuilt.pick(pair(i), m -> true)).as("member order does not matter").isEqualTo(owner);
      share.merge(owner, 1, Integer::sum);
      String after = withoutB.pick(pair(i), m -> true);
      if (owner.equals("sp-b")) {
        moved++;
        assertThat(after).isIn("sp-a", "sp-c");
      } else {
        kept++;
        assertThat(after).as("pair %d not on the removed member keeps its member", i).isEqualTo(owner);
      }
      // A down member is skipped exactly as if it had been removed.
      assertThat(three.pick(pair(i), m -> !m.equals("sp-b"))).isEqualTo(after);
    }
    assertThat(moved).isEqualTo(share.get("sp-b"));
    assertThat(moved + kept).isEqualTo(1000);
    // Virtual nodes spread the pairs: every member owns a fair share.
    assertThat(share.values()).allSatisfy(n -> assertThat(n).isBetween(250, 420));
  }

  @Test
  void orderListsEveryMemberOnceOwnerFirst() {
    HashRing<String> ring = new HashRing<>(SPS, s -> s);
    List<String> order = ring.order(pair(7));
    assertThat(order).containsExactlyInAnyOrderElementsOf(SPS);
    assertThat(order.get(0)).isEqualTo(ring.pick(pair(7), m -> true));
    assertThat(ring.pick(pair(7), m -> !m.equals(order.get(0)))).isEqualTo(order.get(1));
    assertThat(new HashRing<String>(List.of(), s -> s).pick("x", m -> true)).isNull();
    assertThat(ring.pick("x", m -> false)).isNull();
  }

  @Test
  void hashIsStableAcrossRuns() {
    // Fixed value: CPs on different hosts and versions must agree on the ring.
    // (values computed independently, by a Python copy of FNV-1a 64 + the Murmur3 finalizer)
    assertThat(HashRing.hash("sp-a#0")).isEqualTo(7269827415342988537L);
    assertThat(HashRing.hash("")).isEqualTo(-1166397803181037274L);
    assertThat(HashRing.hash("a")).isNotEqualTo(HashRing.hash("b"));
  }
}
