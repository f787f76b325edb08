package net.wanrelay.discovery.packet;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The options of one TCP header, parsed strictly: an option whose length byte is missing, below 2
 * or runs past the header is an error, not a guess. Parsing stops at end-of-list.
 *
 * @param options the options in header order, NOPs included, end-of-list and padding excluded
 * @param usedLength bytes of the option area taken by {@code options} (where new ones may go)
 */
public record TcpOptions(List<TcpOption> options, int usedLength) {
  public static final int MAX_LENGTH = 40;

  public TcpOptions {
    options = List.copyOf(options);
  }

  /** Parses {@code length} bytes of option area starting at {@code offset}. */
  public static ParseResult<TcpOptions> parse(byte[] buf, int offset, int length) {
    if (offset < 0 || length < 0 || offset + length > buf.length) {
      return ParseResult.error("option area out of bounds");
    }
    if (length > MAX_LENGTH) {
      return ParseResult.error("option area of " + length + " bytes exceeds " + MAX_LENGTH);
    }
    List<TcpOption> list = new ArrayList<>();
    int i = 0;
    while (i < length) {
      int kind = buf[offset + i] & 0xff;
      if (kind == TcpOption.EOL) {
        break;
      }
      if (kind == TcpOption.NOP) {
        list.add(new TcpOption(kind, new byte[] {1}));
        i++;
        continue;
      }
      if (i + 1 >= length) {
        return ParseResult.error("option kind " + kind + " at " + i + " has no length byte");
      }
      int len = buf[offset + i + 1] & 0xff;
      if (len < 2) {
        return ParseResult.error("option kind " + kind + " at " + i + " has invalid length " + len);
      }
      if (i + len > length) {
        return ParseResult.error("option kind " + kind + " at " + i + " of length " + len
            + " runs past the option area (" + length + " bytes)");
      }
      byte[] bytes = new byte[len];
      System.arraycopy(buf, offset + i, bytes, 0, len);
      list.add(new TcpOption(kind, bytes));
      i += len;
    }
    return ParseResult.ok(new TcpOptions(list, i));
  }

  /** The first option of {@code kind}, if any. */
  public Optional<TcpOption> find(int kind) {
    return options.stream().filter(o -> o.kind() == kind).findFirst();
  }

  /** All options of {@code kind}, in header order. */
  public List<TcpOption> findAll(int kind) {
    return options.stream().filter(o -> o.kind() == kind).toList();
  }
}
