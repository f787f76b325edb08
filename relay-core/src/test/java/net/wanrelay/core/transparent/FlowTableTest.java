package net.wanrelay.core.transparent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** The UDP flow table: keyed by the 4-tuple, capped, idle expiry by each flow's last activity. */
class FlowTableTest {
  private static final class F implements FlowTable.Entry {
    long last;

    F(long last) {
      this.last = last;
    }

    @Override
    public long lastActivityNanos() {
      return last;
    }
  }

  private static FlowTable.Key key(int clientPort, String server, int port) {
    return new FlowTable.Key(new InetSocketAddress("10.0.0.2", clientPort), new InetSocketAddress(server, port));
  }

  @Test
  void theWholeFourTupleIsTheKey() {
    FlowTable<F> t = new FlowTable<>(10);
    F a = new F(0);
    F b = new F(0);
    F c = new F(0);
    assertThat(t.add(key(1000, "10.0.3.2", 53), a)).isTrue();
    assertThat(t.add(key(1000, "10.0.3.2", 54), b)).as("other server port").isTrue();
    assertThat(t.add(key(1000, "10.0.3.3", 53), c)).as("other server").isTrue();
    assertThat(t.add(key(1000, "10.0.3.2", 53), new F(0))).as("taken").isFalse();
    assertThat(t.get(key(1000, "10.0.3.2", 53))).isSameAs(a);
    assertThat(t.get(key(1001, "10.0.3.2", 53))).as("other client port").isNull();
    assertThat(t.size()).isEqualTo(3);
  }

  @Test
  void capRefusesNewFlowsUntilOneLeaves() {
    FlowTable<F> t = new FlowTable<>(2);
    F a = new F(0);
    t.add(key(1, "10.0.3.2", 53), a);
    t.add(key(2, "10.0.3.2", 53), new F(0));
    assertThat(t.isFull()).isTrue();
    assertThat(t.add(key(3, "10.0.3.2", 53), new F(0))).isFalse();
    assertThat(t.remove(key(1, "10.0.3.2", 53), new F(0))).as("only the stored flow is removed").isFalse();
    assertThat(t.remove(key(1, "10.0.3.2", 53), a)).isTrue();
    assertThat(t.add(key(3, "10.0.3.2", 53), new F(0))).isTrue();
    assertThatThrownBy(() -> new FlowTable<F>(0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void expiryTakesExactlyTheIdleFlows() {
    FlowTable<F> t = new FlowTable<>(10);
    F old = new F(100);
    F fresh = new F(900);
    t.add(key(1, "10.0.3.2", 53), old);
    t.add(key(2, "10.0.3.2", 53), fresh);
    assertThat(t.expire(1099, 1000)).isEmpty();
    assertThat(t.expire(1100, 1000)).containsExactly(old);
    assertThat(t.get(key(1, "10.0.3.2", 53))).isNull();
    fresh.last = 2000; // activity moves the deadline
    assertThat(t.expire(2999, 1000)).isEmpty();
    assertThat(t.clear()).containsExactly(fresh);
    assertThat(t.size()).isZero();
  }
}
