package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import net.wanrelay.core.config.ConfigException;
import net.wanrelay.core.config.ConfigLoader;
import net.wanrelay.core.config.RelayConfig;
import org.junit.jupiter.api.Test;

/**
 * The YAML config loader on fuzzed text (bounded to 16 KiB, as a config file is small): it returns
 * a config or throws {@link ConfigException} with a located one-line message; any other exception,
 * stack overflow included, is a finding. Alias bombs are refused by the loader's alias limit.
 */
class ConfigLoaderFuzzTest {
  private static final int MAX_TEXT = 16 * 1024;

  @FuzzTest
  @DictionaryFile(resourcePath = "ConfigLoaderFuzzTest.dict")
  @DictionaryEntries({"node:", "id:", "admin:", "admin-token:", "drain-timeout:", "limits:", "max-sessions:",
      "idle-timeout:", "trunk:", "listen:", "key:", "allow:", "peers:", "name:", "address:", "connections:",
      "congestion-control:", "compression:", "pools:", "members:", "policy:", "health:", "send:", "expect:",
      "fallback:", "listeners:", "protocol:", "target:", "pool:", "via:", "peer:", "intercept:", "tcp-ports:",
      "udp-ports:", "in-path-rules:", "peering-rules:", "dst:", "src:", "port:", "action:", "fixed-target",
      "auto-discover", "pass-through", "discovery:", "option-kind:", "exid:", "advertise:", "127.0.0.1:9000",
      "10.0.0.0/8", "0123456789abcdef0123", "&a", "*a", "<<:", "- ", "[", "{", "!!", "10s", "500ms", "0x"})
  void onlyConfigExceptionEscapes(FuzzedDataProvider data) {
    String text = data.consumeString(MAX_TEXT);
    try {
      RelayConfig config = ConfigLoader.parse("fuzz.yaml", text);
      assertThat(config.node()).isNotNull();
      assertThat(config.listeners()).isNotNull();
    } catch (ConfigException e) {
      assertThat(e.getMessage()).startsWith("fuzz.yaml").doesNotContain("\n");
    }
  }

  @Test
  void aliasBombIsRefusedByTheAliasLimit() {
    StringBuilder y = new StringBuilder("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for (char c = 'b'; c <= 'j'; c++) {
      char p = (char) (c - 1);
      y.append(c).append(": &").append(c).append(" [");
      for (int i = 0; i < 10; i++) {
        y.append(i == 0 ? "" : ", ").append('*').append(p);
      }
      y.append("]\n");
    }
    assertThatThrownBy(() -> ConfigLoader.parse("bomb.yaml", y.toString()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("bomb.yaml")
        .hasMessageContaining("aliases");
  }
}
