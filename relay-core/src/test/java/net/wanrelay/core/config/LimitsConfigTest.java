package net.wanrelay.core.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import net.wanrelay.core.config.RelayConfig.LimitsConfig;
import org.junit.jupiter.api.Test;

class LimitsConfigTest {
  private static LimitsConfig limits(String body) throws ConfigException {
    return ConfigLoader.parse("f.yaml", "limits: { " + body + " }\n").limits();
  }

  private static void assertError(String body, String expected) {
    assertThatThrownBy(() -> limits(body)).isInstanceOf(ConfigException.class).hasMessageContaining(expected);
  }

  @Test
  void defaults() throws Exception {
    LimitsConfig l = ConfigLoader.parse("f.yaml", "node: { id: x }\n").limits();
    assertThat(l.acceptRate()).as("unlimited").isZero();
    assertThat(l.memory()).isEqualTo(1L << 30);
    assertThat(l.silentTimeout()).isEqualTo(Duration.ofSeconds(30));
    assertThat(l.maxStreamsPerLink()).isEqualTo(8192);
    assertThat(l.linkMemory()).isEqualTo(256L << 20);
  }

  @Test
  void readsEveryKey() throws Exception {
    LimitsConfig l = limits("accept-rate: 500, accept-burst: 50, memory: 64MiB, silent-timeout: 0,"
        + " max-streams-per-link: 120000, link-memory: 32MiB");
    assertThat(l.acceptRate()).isEqualTo(500);
    assertThat(l.acceptBurst()).isEqualTo(50);
    assertThat(l.memory()).isEqualTo(64L << 20);
    assertThat(l.silentTimeout()).as("0 = never").isZero();
    assertThat(l.maxStreamsPerLink()).isEqualTo(120_000);
    assertThat(l.linkMemory()).isEqualTo(32L << 20);
  }

  @Test
  void burstDefaultsToTheRate() throws Exception {
    assertThat(limits("accept-rate: 200").acceptBurst()).isEqualTo(200);
  }

  @Test
  void badValuesAreNamed() {
    assertError("accept-rate: -1", "limits.accept-rate");
    assertError("accept-burst: 0", "limits.accept-burst");
    assertError("memory: 1KiB", "limits.memory: must be at least 65536 bytes");
    assertError("memory: lots", "limits.memory");
    assertError("silent-timeout: soon", "limits.silent-timeout");
    assertError("max-streams-per-link: 0", "limits.max-streams-per-link");
    assertError("link-memory: 4KiB", "limits.link-memory: must be at least");
    assertError("acept-rate: 5", "limits.acept-rate: unknown key");
  }
}
