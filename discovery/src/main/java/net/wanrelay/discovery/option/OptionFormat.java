package net.wanrelay.discovery.option;

/**
 * Which TCP option carries the probe: an experimental kind (253 or 254) with a 16-bit ExID after
 * the length byte (RFC 6994), or any other kind (76 in the field) without an ExID.
 *
 * @param kind TCP option kind, 2..255
 * @param exid the 16-bit experiment identifier, or {@link #NO_EXID}
 */
public record OptionFormat(int kind, int exid) {
  public static final int NO_EXID = -1;
  public static final int DEFAULT_KIND = 253;
  public static final int DEFAULT_EXID = 0x5752; // "WR"
  public static final OptionFormat DEFAULT = new OptionFormat(DEFAULT_KIND, DEFAULT_EXID);

  public OptionFormat {
    if (kind < 2 || kind > 255) {
      throw new IllegalArgumentException("option kind must be 2..255, was " + kind);
    }
    if (exid != NO_EXID && (exid < 0 || exid > 0xffff)) {
      throw new IllegalArgumentException("ExID must be 0..0xffff, was " + exid);
    }
    if ((kind == 253 || kind == 254) && exid == NO_EXID) {
      throw new IllegalArgumentException("experimental kinds 253/254 need an ExID (RFC 6994)");
    }
  }

  /** A kind without an ExID, e.g. 76. */
  public static OptionFormat withoutExid(int kind) {
    return new OptionFormat(kind, NO_EXID);
  }

  public boolean hasExid() {
    return exid != NO_EXID;
  }

  /** Bytes before the probe body: kind, length, and the ExID when there is one. */
  public int headerLength() {
    return hasExid() ? 4 : 2;
  }
}
