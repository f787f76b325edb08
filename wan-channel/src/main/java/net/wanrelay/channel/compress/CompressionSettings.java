package net.wanrelay.channel.compress;

import java.util.Locale;

/**
 * How a stream compresses, parsed from the config strings {@code off | lz4 | zstd | adaptive}.
 *
 * <ul>
 *   <li>{@code off}: never compress.
 *   <li>{@code lz4}: lz4 on every block (cheap; still sends a block uncompressed when it would grow).
 *   <li>{@code zstd}: zstd level 3 on every block.
 *   <li>{@code adaptive}: zstd level 1, and stop trying for a while on data that does not shrink
 *       (TLS records, media, archives) so that CPU is not burnt on it.
 * </ul>
 */
public record CompressionSettings(CompressionCodec codec, int level, boolean adaptive) {
  public static final CompressionSettings OFF = new CompressionSettings(CompressionCodec.NONE, 0, false);
  public static final CompressionSettings LZ4 = new CompressionSettings(CompressionCodec.LZ4, 0, false);
  public static final CompressionSettings ZSTD = new CompressionSettings(CompressionCodec.ZSTD, 3, false);
  public static final CompressionSettings ADAPTIVE = new CompressionSettings(CompressionCodec.ZSTD, 1, true);

  public CompressionSettings {
    if (codec == null) {
      throw new IllegalArgumentException("codec must not be null");
    }
    if (codec == CompressionCodec.ZSTD && (level < -7 || level > 19)) {
      throw new IllegalArgumentException("zstd level must be in -7..19, got " + level);
    }
  }

  /** Parses a config value (case-insensitive, surrounding blanks ignored). */
  public static CompressionSettings parse(String value) {
    if (value == null) {
      throw new IllegalArgumentException("compression setting is missing; use one of off, lz4, zstd, adaptive");
    }
    switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "off":
      case "none":
        return OFF;
      case "lz4":
        return LZ4;
      case "zstd":
        return ZSTD;
      case "adaptive":
        return ADAPTIVE;
      default:
        throw new IllegalArgumentException(
            "unknown compression setting '" + value + "'; use one of off, lz4, zstd, adaptive");
    }
  }
}
