package net.wanrelay.channel.frame;

/** Reasons carried by OPEN_FAIL, RST and GOAWAY (one byte on the wire). */
public enum ErrorCode {
  NO_ERROR(0),
  PROTOCOL_ERROR(1),
  REFUSED(2),
  UNREACHABLE(3),
  TIMEOUT(4),
  DENIED(5),
  BUSY(6),
  INTERNAL(7),
  CANCEL(8),
  IDLE(9),
  GOING_AWAY(10),
  FLOW_CONTROL(11),
  AUTH_FAILED(12),
  VERSION(13),
  CONNECTION_LOST(14);

  private static final ErrorCode[] BY_CODE = new ErrorCode[256];

  static {
    for (ErrorCode c : values()) {
      BY_CODE[c.code] = c;
    }
  }

  private final int code;

  ErrorCode(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  /** Unknown codes read as INTERNAL so a newer peer never breaks an older one. */
  public static ErrorCode of(int code) {
    ErrorCode c = code >= 0 && code < 256 ? BY_CODE[code] : null;
    return c == null ? INTERNAL : c;
  }

  /** Lower-case label used in logs and metric tags. */
  public String label() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }
}
