package net.wanrelay.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** peer-groups:, listeners via group:NAME and trunk.destinations: defaults, full form, located errors. */
class PeerGroupsSectionTest {
  private static final String TRUNK = """
      trunk:
        listen: 127.0.0.1:7800
        key: "0123456789abcdef0123"
        peers:
          - { name: a, address: 127.0.0.1:7801, key: "0123456789abcdef0123" }
          - { name: b, address: 127.0.0.1:7802, key: "0123456789abcdef0123" }
      """;

  private static RelayConfig parse(String groups, String via) throws ConfigException {
    return ConfigLoader.parse("t.yaml", TRUNK + groups + """

        listeners:
          - { name: web, protocol: tcp, listen: 127.0.0.1:8080, target: 127.0.0.1:80, via: %s }
        """.formatted(via));
  }

  @Test
  void fullFormAndDefaults() throws Exception {
    RelayConfig c = parse("""
        peer-groups:
          site: { peers: [ b, a ], policy: race, race-timeout: 750ms }
          hashed: { peers: [ a, b ], policy: consistent-hash }
          plain: { peers: [ a ] }
        """, "group:site");
    PeerGroupConfig site = c.peerGroups().get("site");
    assertThat(site.peers()).containsExactly("b", "a");
    assertThat(site.policy()).isEqualTo(PeerGroupConfig.Policy.RACE);
    assertThat(site.raceTimeout()).isEqualTo(Duration.ofMillis(750));
    assertThat(c.peerGroups().get("hashed").policy()).isEqualTo(PeerGroupConfig.Policy.CONSISTENT_HASH);
    assertThat(c.peerGroups().get("plain").policy()).isEqualTo(PeerGroupConfig.Policy.PRIMARY_FIRST);
    assertThat(c.peerGroups().get("plain").raceTimeout()).isEqualTo(Duration.ofSeconds(3));
    assertThat(c.listeners().get(0).via()).isEqualTo(new RelayConfig.Via(RelayConfig.Via.Kind.GROUP, "site"));
    assertThat(c.listeners().get(0).via().toString()).isEqualTo("group:site");
  }

  @Test
  void badGroupsGetLocatedErrors() {
    assertThatThrownBy(() -> parse("peer-groups: { g: { peers: [ a, c ] } }", "group:g"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("peer-groups.g.peers").hasMessageContaining("'c'");
    assertThatThrownBy(() -> parse("peer-groups: { g: { peers: [ a, a ] } }", "group:g"))
        .hasMessageContaining("listed twice");
    assertThatThrownBy(() -> parse("peer-groups: { g: { peers: [ ] } }", "group:g"))
        .hasMessageContaining("at least one peer");
    assertThatThrownBy(() -> parse("peer-groups: { g: { peers: [ a ], policy: fastest } }", "group:g"))
        .hasMessageContaining("not primary-first, consistent-hash or race");
    assertThatThrownBy(() -> parse("peer-groups: { g: { peers: [ a ], race-timeout: 1s } }", "group:g"))
        .hasMessageContaining("only used with policy: race");
    assertThatThrownBy(() -> parse("peer-groups: { g: { peers: [ a ], policy: race, race-timeout: 0s } }", "group:g"))
        .hasMessageContaining("at least 1ms");
    assertThatThrownBy(() -> parse("peer-groups: { g: { peers: [ a ], weight: 2 } }", "group:g"))
        .hasMessageContaining("weight");
    assertThatThrownBy(() -> parse("peer-groups: { g: { peers: [ a ] } }", "group:nope"))
        .hasMessageContaining("listeners[0].via").hasMessageContaining("no peer group named 'nope'");
    assertThatThrownBy(() -> ConfigLoader.parse("t.yaml", TRUNK + """
        peer-groups: { g: { peers: [ a, b ], policy: race } }
        listeners:
          - { name: dns, protocol: udp, listen: 127.0.0.1:5353, target: 127.0.0.1:53, via: group:g }
        """)).hasMessageContaining("tcp listeners only");
  }

  @Test
  void discoverySpSelection() throws Exception {
    assertThat(ConfigLoader.parse("t.yaml", "discovery: { sp-selection: consistent-hash }").discovery().spSelection())
        .isEqualTo(net.wanrelay.discovery.PeerSelector.Policy.CONSISTENT_HASH);
    assertThat(ConfigLoader.parse("t.yaml", "node: { id: x }").discovery().spSelection())
        .isEqualTo(net.wanrelay.discovery.PeerSelector.Policy.PRIMARY_FIRST);
    assertThatThrownBy(() -> ConfigLoader.parse("t.yaml", "discovery: { sp-selection: random }"))
        .hasMessageContaining("discovery.sp-selection").hasMessageContaining("not primary-first or consistent-hash");
  }

  @Test
  void destinationsMapToAnAddressOrAPool() throws Exception {
    RelayConfig c = ConfigLoader.parse("t.yaml", """
        pools: { web: { members: [ 127.0.0.1:81, 127.0.0.1:82 ] } }
        trunk:
          listen: 127.0.0.1:7800
          key: "0123456789abcdef0123"
          allow: [ 127.0.0.0/8 ]
          destinations:
            - { match: 10.0.0.1:80, target: "pool:web" }
            - { match: 10.0.0.2:80, target: 127.0.0.1:90 }
        """);
    List<RelayConfig.DestinationMapping> d = c.trunk().orElseThrow().destinations();
    assertThat(d).hasSize(2);
    assertThat(d.get(0).pool()).isEqualTo("web");
    assertThat(d.get(0).targetText()).isEqualTo("pool:web");
    assertThat(d.get(1).target()).isEqualTo(new HostPort("127.0.0.1", 90));

    assertThatThrownBy(() -> ConfigLoader.parse("t.yaml", """
        trunk: { listen: 127.0.0.1:7800, key: "0123456789abcdef0123", destinations: [ { match: 10.0.0.1:80, target: "pool:nope" } ] }
        """)).hasMessageContaining("trunk.destinations[0].target").hasMessageContaining("no pool named 'nope'");
    assertThatThrownBy(() -> ConfigLoader.parse("t.yaml", """
        trunk:
          peers: [ { name: a, address: 127.0.0.1:7801, key: "0123456789abcdef0123" } ]
          destinations: [ { match: 10.0.0.1:80, target: 127.0.0.1:1 } ]
        """)).hasMessageContaining("need trunk.listen");
    assertThatThrownBy(() -> ConfigLoader.parse("t.yaml", """
        trunk:
          listen: 127.0.0.1:7800
          key: "0123456789abcdef0123"
          destinations: [ { match: 10.0.0.1:80, target: 127.0.0.1:1 }, { match: 10.0.0.1:80, target: 127.0.0.1:2 } ]
        """)).hasMessageContaining("duplicate destination 10.0.0.1:80");
  }
}
