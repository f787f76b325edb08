package net.wanrelay.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The pools: section: defaults, full form and located errors. */
class PoolsSectionTest {
  private static RelayConfig parse(String pools) throws ConfigException {
    return ConfigLoader.parse("t.yaml", """
        node: { admin: 127.0.0.1:9464 }
        %s
        listeners:
          - { name: db, protocol: tcp, listen: 127.0.0.1:5432, target: "pool:db" }
        """.formatted(pools));
  }

  @Test
  void fullFormAndDefaults() throws Exception {
    PoolConfig p = parse("""
        pools:
          db:
            policy: lowest-rtt
            resumable: true
            members: [ 127.0.0.1:15432, 127.0.0.1:15433 ]
            health: { interval: 200ms, timeout: 100ms, rise: 3, fall: 1, send: "ping\\n", expect: "pong", protocol: udp }
            fallback: 127.0.0.1:15499
        """).pools().get("db");
    assertThat(p.policy()).isEqualTo(PoolConfig.Policy.LOWEST_RTT);
    assertThat(p.resumable()).isTrue();
    assertThat(p.members()).hasSize(2);
    assertThat(p.health().interval()).isEqualTo(Duration.ofMillis(200));
    assertThat(p.health().send()).hasValue("ping\n");
    assertThat(p.health().protocol()).isEqualTo(RelayConfig.Protocol.UDP);
    assertThat(p.fallback()).hasValue(new HostPort("127.0.0.1", 15499));

    PoolConfig d = parse("pools: { db: { members: [ 127.0.0.1:1 ] } }").pools().get("db");
    assertThat(d.policy()).isEqualTo(PoolConfig.Policy.ROUND_ROBIN);
    assertThat(d.resumable()).isFalse();
    assertThat(d.health().interval()).isEqualTo(Duration.ofSeconds(1));
    assertThat(d.health().protocol()).isEqualTo(RelayConfig.Protocol.TCP);
  }

  @Test
  void badPoolsGetLocatedErrors() {
    assertThatThrownBy(() -> parse("pools: { db: { members: [ 127.0.0.1:1 ], policy: fastest } }"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("policy").hasMessageContaining("fastest");
    assertThatThrownBy(() -> parse("pools: { db: { members: [ 127.0.0.1:1 ], health: { protocol: udp } } }"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("udp probe needs 'send'");
    assertThatThrownBy(() -> parse("pools: { db: { members: [ 127.0.0.1:1 ], health: { protocol: sctp, send: x } } }"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("not tcp or udp");
    assertThatThrownBy(() -> parse("pools: { db: { members: [ 127.0.0.1:1 ], health: { interval: 1ms } } }"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("at least 10ms");
    assertThatThrownBy(() -> parse("pools: { db: { members: [ 127.0.0.1:1 ], resumable: maybe } }"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("resumable");
    assertThatThrownBy(() -> parse("pools: { db: { members: [ 127.0.0.1:1 ], weight: 3 } }"))
        .isInstanceOf(ConfigException.class).hasMessageContaining("weight");
  }
}
