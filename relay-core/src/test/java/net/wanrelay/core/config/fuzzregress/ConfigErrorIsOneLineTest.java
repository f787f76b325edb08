package net.wanrelay.core.config.fuzzregress;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.wanrelay.core.config.ConfigException;
import net.wanrelay.core.config.ConfigLoader;
import org.junit.jupiter.api.Test;

/**
 * Found by fuzz/ConfigLoaderFuzzTest: the YAML parser's problem text and our own messages quote the
 * file, so a newline in it (input "!!\n\n", or a quoted value with "\n") split the one-line report.
 */
class ConfigErrorIsOneLineTest {

  @Test
  void yamlParserProblemWithANewlineStaysOnOneLine() {
    assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", "!!\n\n"))
        .isInstanceOf(ConfigException.class)
        .hasMessageStartingWith("c.yaml:1:3: invalid YAML")
        .hasMessageContaining("\\n")
        .hasMessageNotContaining("\n");
  }

  @Test
  void quotedValueWithANewlineIsEscapedInTheMessage() {
    String yaml = "trunk:\n  key: 0123456789abcdef0123\n  compression: \"lz4\\nfake log line\"\n";
    assertThatThrownBy(() -> ConfigLoader.parse("c.yaml", yaml))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("trunk.compression")
        .hasMessageContaining("'lz4\\nfake log line'")
        .hasMessageNotContaining("\n");
  }
}
