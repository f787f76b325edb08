package net.wanrelay.discovery.packet;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * One TCP option as it sits in a header: its kind and its whole encoding (kind and length bytes
 * included; a single byte for NOP and end-of-list).
 */
public record TcpOption(int kind, byte[] bytes) {
  public static final int EOL = 0;
  public static final int NOP = 1;
  public static final int MSS = 2;
  public static final int WINDOW_SCALE = 3;
  public static final int SACK_PERMITTED = 4;
  public static final int TIMESTAMPS = 8;

  public TcpOption {
    bytes = bytes.clone();
  }

  /** The option's data after the kind and length bytes. */
  public byte[] data() {
    return bytes.length <= 2 ? new byte[0] : Arrays.copyOfRange(bytes, 2, bytes.length);
  }

  @Override
  public byte[] bytes() {
    return bytes.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TcpOption t && t.kind == kind && Arrays.equals(t.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return 31 * kind + Arrays.hashCode(bytes);
  }

  @Override
  public String toString() {
    return "TcpOption[kind=" + kind + ", " + HexFormat.of().formatHex(bytes) + "]";
  }
}
