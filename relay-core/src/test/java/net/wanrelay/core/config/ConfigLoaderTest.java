package net.wanrelay.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ConfigLoaderTest {
  private static final String VALID = """
      node: { id: cp, admin: 127.0.0.1:9464, drain-timeout: 3s, io-threads: 3 }
      listeners:
        - { name: web, protocol: tcp, listen: 0.0.0.0:8080, target: 10.9.3.2:80 }
        - { name: bulk, protocol: tcp, listen: 0.0.0.0:5001, target: db.internal:5001, via: peer:sp }
        - { name: dns, protocol: udp, listen: 0.0.0.0:5353, target: 10.9.3.2:53, via: peer:sp }
      trunk:
        listen: 0.0.0.0:7800
        key: "0123456789abcdef0123"
        allow: [ 10.9.3.0/24, "10.3.0.0/16:443" ]
        peers:
          - { name: sp, address: 10.9.2.2:7800, key: "0123456789abcdef0123", connections: 3 }
      limits: { max-sessions: 500, udp-idle-timeout: 1500ms }
      """;

  @Test
  void readsAValidFile() throws Exception {
    RelayConfig c = ConfigLoader.parse("f.yaml", VALID);
    assertThat(c.node().id()).isEqualTo("cp");
    assertThat(c.node().drainTimeout().toMillis()).isEqualTo(3000);
    assertThat(c.node().ioThreads()).isEqualTo(3);
    assertThat(c.listeners()).hasSize(3);
    assertThat(c.listeners().get(1).target()).isEqualTo(new HostPort("db.internal", 5001));
    assertThat(c.listeners().get(2).via().peer()).isEqualTo("sp");
    assertThat(c.trunk().orElseThrow().peers().get(0).connections()).isEqualTo(3);
    assertThat(c.trunk().orElseThrow().allow()).containsExactly("10.9.3.0/24", "10.3.0.0/16:443");
    assertThat(c.limits().maxSessions()).isEqualTo(500);
    assertThat(c.limits().udpIdleTimeout().toMillis()).isEqualTo(1500);
  }

  @Test
  void ioThreadsDefaultToOnePerCore() throws Exception {
    int cores = Runtime.getRuntime().availableProcessors();
    assertThat(ConfigLoader.parse("f.yaml", "node: { id: a }\n").node().ioThreads()).isEqualTo(cores);
    assertThat(ConfigLoader.parse("f.yaml", "listeners: []\n").node().ioThreads()).isEqualTo(cores);
  }

  private static void assertError(String yaml, String expected) {
    assertThatThrownBy(() -> ConfigLoader.parse("f.yaml", yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessage(expected);
  }

  @Test
  void unknownKeyIsNamedWithItsPlace() {
    assertError("""
        listeners:
          - { name: a, listen: 127.0.0.1:1000, target: 127.0.0.1:2000, colour: red }
        """, "f.yaml:2:64: listeners[0].colour: unknown key");
    assertError("nodes: { id: x }\n", "f.yaml:1:1: nodes: unknown key");
  }

  @Test
  void badAddressIsNamed() {
    assertError("""
        listeners:
          - name: a
            listen: 127.0.0.300:1000
            target: 127.0.0.1:2000
        """, "f.yaml:3:13: listeners[0].listen: '127.0.0.300' is not a valid IPv4 address");
    assertError("""
        listeners:
          - { name: a, listen: 127.0.0.1, target: 127.0.0.1:2000 }
        """, "f.yaml:2:24: listeners[0].listen: expected host:port, got '127.0.0.1'");
  }

  @Test
  void portOutOfRangeIsNamed() {
    assertError("""
        listeners:
          - { name: a, listen: 127.0.0.1:1000, target: 127.0.0.1:70000 }
        """, "f.yaml:2:48: listeners[0].target: port 70000 out of range (1-65535)");
  }

  @Test
  void duplicateListenersAreNamed() {
    assertError("""
        listeners:
          - { name: a, listen: 127.0.0.1:1000, target: 127.0.0.1:2000 }
          - { name: a, listen: 127.0.0.1:1001, target: 127.0.0.1:2000 }
        """, "f.yaml:3:7: listeners[1].name: duplicate listener name 'a' (first at listeners[0])");
    assertError("""
        listeners:
          - { name: a, listen: 127.0.0.1:1000, target: 127.0.0.1:2000 }
          - { name: b, listen: 127.0.0.1:1000, target: 127.0.0.1:2000 }
        """, "f.yaml:3:16: listeners[1].listen: duplicate listener: tcp 127.0.0.1:1000 is already used by listeners[0]");
  }

  @Test
  void otherMistakes() {
    assertError("listeners: [ { name: a, listen: 127.0.0.1:1, target: 127.0.0.1:2, via: peer:nope } ]\n",
        "f.yaml:1:67: listeners[0].via: no trunk peer named 'nope' (define it under trunk.peers)");
    assertError("limits: { idle-timeout: 5 parsecs }\n",
        "f.yaml:1:25: limits.idle-timeout: '5 parsecs' has an unknown unit (use ms, s, m or h)");
    assertError("trunk: { listen: 0.0.0.0:7800, key: short }\n",
        "f.yaml:1:32: trunk.key: secret is too short (5 bytes; at least 16)");
    assertError("listeners: [ { name: a, listen: 127.0.0.1:1 } ]\n",
        "f.yaml:1:14: listeners[0]: missing required key 'target'");
    assertError("a: [\n", "f.yaml:2:1: invalid YAML: expected the node content, but found '<stream end>'");
    assertError("", "f.yaml:1:1: the file is empty");
    // Found by fuzzing: SnakeYAML throws IllegalArgumentException for a tag with spaces.
    assertThatThrownBy(() -> ConfigLoader.parse("f.yaml", "\r!%a")).isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("f.yaml");
    assertError("trunk: { dedup: { max-size: 20 parsecs } }\n",
        "f.yaml:1:29: trunk.dedup.max-size: '20 parsecs' has an unknown unit (use B, KiB, MiB, GiB or TiB)");
    assertError("node: { id: a, id: b }\n", "f.yaml:1:16: node.id: duplicate key");
    assertError("node: { io-threads: 0 }\n", "f.yaml:1:21: node.io-threads: 0 out of range (1-1024)");
  }
}
