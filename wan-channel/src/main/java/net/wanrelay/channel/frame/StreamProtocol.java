package net.wanrelay.channel.frame;

/** What a stream carries: a TCP byte stream or the datagrams of one UDP flow. */
public enum StreamProtocol {
  TCP(6),
  UDP(17);

  private final int code;

  StreamProtocol(int code) {
    this.code = code;
  }

  public int code() {
    return code;
  }

  public static StreamProtocol of(int code) {
    for (StreamProtocol p : values()) {
      if (p.code == code) {
        return p;
      }
    }
    throw new ProtocolViolation("bad_open", "unknown protocol " + code);
  }
}
