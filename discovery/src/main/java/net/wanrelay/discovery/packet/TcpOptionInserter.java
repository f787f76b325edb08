package net.wanrelay.discovery.packet;

/**
 * Adds one TCP option to an IPv4 TCP packet (a SYN or SYN-ACK from NFQUEUE), keeping the existing
 * options: the new option goes after them, preceded by NOPs so the option area stays a multiple of
 * four bytes; the data offset, IP total length, IP header checksum and TCP checksum are rewritten.
 * Any end-of-list marker and padding after the existing options is dropped (it would hide the new
 * option). A packet that cannot take the option is returned unchanged with the reason.
 */
public final class TcpOptionInserter {
  private TcpOptionInserter() {}

  /** Outcome: the packet to send (possibly the original bytes) and why nothing changed. */
  public record Result(byte[] packet, boolean changed, String reason) {
    static Result unchanged(byte[] original, String reason) {
      return new Result(original, false, reason);
    }
  }

  /**
   * Inserts {@code option} (its full encoding, kind and length bytes included) into the packet.
   * Returns the rewritten bytes, or the input bytes unchanged with a reason.
   */
  public static Result insert(byte[] packetBytes, byte[] option) {
    if (option == null || option.length < 2 || (option[1] & 0xff) != option.length) {
      return Result.unchanged(packetBytes, "option encoding invalid (length byte must equal its size)");
    }
    if ((option[0] & 0xff) <= TcpOption.NOP) {
      // EOL and NOP are one-byte options: a "length" after them would parse as a new option.
      return Result.unchanged(packetBytes, "option kind " + (option[0] & 0xff) + " (EOL/NOP) cannot carry a length");
    }
    ParseResult<Ipv4TcpPacket> parsed = Ipv4TcpPacket.parse(packetBytes);
    if (!parsed.isOk()) {
      return Result.unchanged(packetBytes, "unparseable packet: " + parsed.error());
    }
    Ipv4TcpPacket packet = parsed.value();
    int existing = packet.options().value().usedLength();
    int pad = (4 - ((existing + option.length) % 4)) % 4;
    int newOptionArea = existing + pad + option.length;
    if (newOptionArea > TcpOptions.MAX_LENGTH) {
      return Result.unchanged(packetBytes, "no room: " + existing + " option bytes in use, "
          + option.length + " needed (+" + pad + " padding), " + TcpOptions.MAX_LENGTH + " max");
    }
    int newTotal = packet.ipHeaderLength() + 20 + newOptionArea
        + (packet.totalLength() - packet.ipHeaderLength() - packet.tcpHeaderLength());
    if (newTotal > 0xffff) {
      return Result.unchanged(packetBytes, "packet would exceed 65535 bytes");
    }
    byte[] src = packet.raw();
    int ipLen = packet.ipHeaderLength();
    int tcpStart = ipLen;
    int oldOptionsStart = tcpStart + 20;
    int payloadStart = tcpStart + packet.tcpHeaderLength();
    int payloadLength = src.length - payloadStart;

    byte[] out = new byte[newTotal];
    System.arraycopy(src, 0, out, 0, oldOptionsStart); // IP header and fixed TCP header
    int w = oldOptionsStart;
    System.arraycopy(src, oldOptionsStart, out, w, existing);
    w += existing;
    for (int i = 0; i < pad; i++) {
      out[w++] = TcpOption.NOP;
    }
    System.arraycopy(option, 0, out, w, option.length);
    w += option.length;
    System.arraycopy(src, payloadStart, out, w, payloadLength);

    int doffWords = (20 + newOptionArea) / 4;
    out[tcpStart + 12] = (byte) ((doffWords << 4) | (out[tcpStart + 12] & 0x0f));
    Ipv4TcpPacket.put16(out, 2, newTotal);
    Ipv4TcpPacket.put16(out, 10, 0);
    Ipv4TcpPacket.put16(out, 10, Checksums.ipv4Header(out, 0, ipLen));
    Ipv4TcpPacket.put16(out, tcpStart + 16, 0);
    Ipv4TcpPacket.put16(out, tcpStart + 16, Checksums.tcp(out, 0, tcpStart, newTotal - tcpStart));
    return new Result(out, true, null);
  }
}
