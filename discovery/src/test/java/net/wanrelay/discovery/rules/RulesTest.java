package net.wanrelay.discovery.rules;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

class RulesTest {
  private static InetAddress ip(String s) {
    try {
      return InetAddress.getByName(s);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  @Test
  void cidrMatching() {
    Cidr c = Cidr.parse("10.2.0.0/16");
    assertThat(c.contains(ip("10.2.255.1"))).isTrue();
    assertThat(c.contains(ip("10.3.0.1"))).isFalse();
    assertThat(Cidr.parse("10.2.3.4/16")).isEqualTo(c); // host bits masked
    assertThat(Cidr.parse("10.2.3.4").contains(ip("10.2.3.4"))).isTrue();
    assertThat(Cidr.parse("10.2.3.4").contains(ip("10.2.3.5"))).isFalse();
    assertThat(Cidr.ANY_V4.contains(ip("192.0.2.1"))).isTrue();
    assertThat(Cidr.ANY_V4.contains(ip("::1"))).isFalse();
    assertThat(Cidr.parse("10.128.0.0/9").contains(ip("10.200.0.1"))).isTrue();
    assertThat(Cidr.parse("10.128.0.0/9").contains(ip("10.100.0.1"))).isFalse();
    assertThat(c.toString()).isEqualTo("10.2.0.0/16");
  }

  @Test
  void badCidrsAreRejectedClearly() {
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/33")).hasMessageContaining("out of range");
    assertThatThrownBy(() -> Cidr.parse("example.com/8")).hasMessageContaining("not an IP literal");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/x")).hasMessageContaining("prefix length");
    assertThatThrownBy(() -> Cidr.parse("")).hasMessageContaining("empty");
  }

  @Test
  void portSets() {
    PortSet p = PortSet.parse("22, 80,8000-8100");
    assertThat(p.contains(22)).isTrue();
    assertThat(p.contains(8050)).isTrue();
    assertThat(p.contains(8101)).isFalse();
    assertThat(p.toString()).isEqualTo("22,80,8000-8100");
    assertThat(PortSet.parse("any").contains(1)).isTrue();
    assertThatThrownBy(() -> PortSet.parse("0")).hasMessageContaining("out of 1..65535");
    assertThatThrownBy(() -> PortSet.parse("90-80")).hasMessageContaining("out of");
    assertThatThrownBy(() -> PortSet.parse("http")).hasMessageContaining("bad port");
  }

  @Test
  void inPathFirstMatchWinsDefaultAutoDiscover() {
    InPathRules rules = new InPathRules(List.of(
        InPathRule.of("10.9.0.0/16", "22", InPathRule.Action.PASS_THROUGH),
        InPathRule.fixedTarget("10.2.0.0/16", "any", "hq", "hq-2"),
        InPathRule.of("10.0.0.0/8", "any", InPathRule.Action.DENY)));
    assertThat(rules.match(ip("10.9.1.1"), 22).action()).isEqualTo(InPathRule.Action.PASS_THROUGH);
    assertThat(rules.match(ip("10.9.1.1"), 80).action()).isEqualTo(InPathRule.Action.DENY);
    InPathRule fixed = rules.match(ip("10.2.5.5"), 22);
    assertThat(fixed.action()).isEqualTo(InPathRule.Action.FIXED_TARGET);
    assertThat(fixed.peer()).isEqualTo("hq");
    assertThat(fixed.backup()).isEqualTo("hq-2");
    assertThat(rules.match(ip("192.0.2.1"), 443)).isSameAs(InPathRule.DEFAULT);
    assertThat(new InPathRules(List.of()).match(ip("1.1.1.1"), 1).action()).isEqualTo(InPathRule.Action.AUTO_DISCOVER);
  }

  @Test
  void inPathRuleValidation() {
    assertThatThrownBy(() -> InPathRule.fixedTarget("10.0.0.0/8", "any", " ", null)).hasMessageContaining("needs a peer");
    assertThatThrownBy(() -> new InPathRule(Cidr.ANY_V4, PortSet.ANY, InPathRule.Action.DENY, "hq", null))
        .hasMessageContaining("only fixed-target");
  }

  @Test
  void peeringFirstMatchWinsDefaultAccept() {
    PeeringRules rules = new PeeringRules(List.of(
        PeeringRule.of("192.0.2.0/24", null, "any", PeeringRule.Action.PASS_THROUGH),
        PeeringRule.of(null, "10.3.0.0/16", "443", PeeringRule.Action.PASS_THROUGH)));
    assertThat(rules.match(ip("192.0.2.9"), ip("10.2.0.1"), 80).action()).isEqualTo(PeeringRule.Action.PASS_THROUGH);
    assertThat(rules.match(ip("198.51.100.1"), ip("10.3.0.1"), 443).action()).isEqualTo(PeeringRule.Action.PASS_THROUGH);
    assertThat(rules.match(ip("198.51.100.1"), ip("10.3.0.1"), 80).action()).isEqualTo(PeeringRule.Action.ACCEPT);
    assertThat(rules.match(ip("198.51.100.1"), ip("10.2.0.1"), 80)).isSameAs(PeeringRule.DEFAULT);
  }
}
