package net.wanrelay.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class AllowListTest {
  private static InetSocketAddress a(String host, int port) {
    return new InetSocketAddress(host, port);
  }

  @Test
  void cidrsAndPortsMatchAsConfigured() {
    AllowList l = AllowList.parse(List.of("10.2.0.0/16", "10.3.0.0/16:443", "127.0.0.1/32:7000", "2001:db8::/32",
        "[fd00::/8]:53", "192.168.1.7"));
    assertThat(l.permits(a("10.2.255.1", 22))).isTrue();
    assertThat(l.permits(a("10.1.0.1", 22))).isFalse();
    assertThat(l.permits(a("10.3.1.1", 443))).isTrue();
    assertThat(l.permits(a("10.3.1.1", 80))).isFalse();
    assertThat(l.permits(a("127.0.0.1", 7000))).isTrue();
    assertThat(l.permits(a("127.0.0.1", 7001))).isFalse();
    assertThat(l.permits(a("127.0.0.2", 7000))).isFalse();
    assertThat(l.permits(a("2001:db8:1::5", 80))).isTrue();
    assertThat(l.permits(a("2001:db9::5", 80))).isFalse();
    assertThat(l.permits(a("fd12::1", 53))).isTrue();
    assertThat(l.permits(a("fd12::1", 54))).isFalse();
    assertThat(l.permits(a("192.168.1.7", 1))).isTrue();
    assertThat(l.permits(a("192.168.1.8", 1))).isFalse();
    assertThat(l.permits(InetSocketAddress.createUnresolved("db.internal", 80))).isFalse();
  }

  @Test
  void oddPrefixLengthsCompareTheRightBits() {
    AllowList l = AllowList.parse(List.of("10.0.0.128/25"));
    assertThat(l.permits(a("10.0.0.200", 1))).isTrue();
    assertThat(l.permits(a("10.0.0.127", 1))).isFalse();
  }

  @Test
  void emptyListAllowsNothing() {
    assertThat(AllowList.none().permits(a("127.0.0.1", 80))).isFalse();
  }

  @Test
  void badEntriesAreRejectedWithTheEntryNamed() {
    assertThatThrownBy(() -> AllowList.parse(List.of("10.0.0.0/33"))).hasMessageContaining("10.0.0.0/33");
    assertThatThrownBy(() -> AllowList.parse(List.of("10.0.0.0/8:70000"))).hasMessageContaining("out of range");
    assertThatThrownBy(() -> AllowList.parse(List.of("example.com/24"))).hasMessageContaining("not an IP");
    assertThatThrownBy(() -> AllowList.parse(List.of("[::1/128"))).hasMessageContaining("missing ]");
  }
}
