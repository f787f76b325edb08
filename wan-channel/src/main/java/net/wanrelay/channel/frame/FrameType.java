package net.wanrelay.channel.frame;

/** Trunk frame types; the codes are the first header byte on the wire (see docs/PROTOCOL.md). */
public enum FrameType {
  HELLO(0x00, true),
  AUTH(0x01, true),
  OPEN(0x02, false),
  OPEN_ACK(0x03, false),
  OPEN_FAIL(0x04, false),
  DATA(0x05, false),
  WINDOW(0x06, false),
  FIN(0x07, false),
  RST(0x08, false),
  DATAGRAM(0x09, false),
  PING(0x0A, true),
  PONG(0x0B, true),
  GOAWAY(0x0C, true),
  DEDUP_REPLY(0x0D, false),
  RESUME(0x0E, true),
  /** The sender's trunk address (where it accepts peers), sent after auth when it has one. */
  ANNOUNCE(0x0F, true);

  private static final FrameType[] BY_CODE = new FrameType[256];

  static {
    for (FrameType t : values()) {
      BY_CODE[t.code] = t;
    }
  }

  private final int code;
  private final boolean connectionLevel;

  FrameType(int code, boolean connectionLevel) {
    this.code = code;
    this.connectionLevel = connectionLevel;
  }

  public int code() {
    return code;
  }

  /** True for frames that must carry stream id 0. */
  public boolean connectionLevel() {
    return connectionLevel;
  }

  /** The type for a wire code, or null when unknown. */
  public static FrameType of(int code) {
    return code >= 0 && code < 256 ? BY_CODE[code] : null;
  }
}
