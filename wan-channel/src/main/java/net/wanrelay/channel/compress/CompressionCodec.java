package net.wanrelay.channel.compress;

/**
 * The codec a DATA frame's payload was encoded with. The ids travel on the wire (frame flags or the
 * OPEN options), so they never change; new codecs get new ids.
 */
public enum CompressionCodec {
  NONE(0),
  LZ4(1),
  ZSTD(2);

  private static final CompressionCodec[] BY_ID = {NONE, LZ4, ZSTD};

  private final int id;

  CompressionCodec(int id) {
    this.id = id;
  }

  /** The stable wire id of this codec. */
  public int id() {
    return id;
  }

  /** The codec for a wire id; unknown ids (a newer or broken peer) are a {@link CompressionException}. */
  public static CompressionCodec fromId(int id) {
    if (id < 0 || id >= BY_ID.length) {
      throw new CompressionException(
          "unknown compression codec id " + id + " (known: 0=NONE, 1=LZ4, 2=ZSTD)");
    }
    return BY_ID[id];
  }

  /**
   * The codec a config value asks for: {@code off}, {@code lz4}, {@code zstd} or {@code adaptive}
   * (which compresses with zstd). See {@link CompressionSettings#parse(String)} for the full settings.
   */
  public static CompressionCodec fromConfig(String value) {
    return CompressionSettings.parse(value).codec();
  }
}
