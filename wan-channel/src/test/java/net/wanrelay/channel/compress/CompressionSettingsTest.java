package net.wanrelay.channel.compress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CompressionSettingsTest {
  @Test
  void parsesTheConfigValues() {
    assertThat(CompressionSettings.parse("off")).isEqualTo(CompressionSettings.OFF);
    assertThat(CompressionSettings.parse(" LZ4 ").codec()).isEqualTo(CompressionCodec.LZ4);
    assertThat(CompressionSettings.parse("zstd")).isEqualTo(new CompressionSettings(CompressionCodec.ZSTD, 3, false));
    CompressionSettings adaptive = CompressionSettings.parse("Adaptive");
    assertThat(adaptive.codec()).isEqualTo(CompressionCodec.ZSTD);
    assertThat(adaptive.adaptive()).isTrue();
    assertThat(adaptive.level()).isEqualTo(1);
    assertThat(CompressionCodec.fromConfig("adaptive")).isEqualTo(CompressionCodec.ZSTD);
    assertThat(CompressionCodec.fromConfig("off")).isEqualTo(CompressionCodec.NONE);
  }

  @Test
  void rejectsUnknownValuesWithTheValidChoices() {
    assertThatThrownBy(() -> CompressionSettings.parse("gzip"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gzip")
        .hasMessageContaining("off, lz4, zstd, adaptive");
    assertThatThrownBy(() -> CompressionSettings.parse(null)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new CompressionSettings(CompressionCodec.ZSTD, 40, false))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
