package net.wanrelay.discovery.syn;

import io.netty.channel.Channel;
import java.nio.ByteBuffer;
import net.wanrelay.discovery.option.ProbeOptionCodec;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.ParseResult;
import net.wanrelay.discovery.packet.TcpOption;

/**
 * Reads the SYN of an accepted connection (listener with TCP_SAVE_SYN = 1) and the probe in it.
 * The kernel hands the saved SYN out once. Returns results, never throws.
 */
public final class SavedSynReader {
  private SavedSynReader() {}

  /** The saved SYN's headers; lengths come from the headers, not the returned buffer. */
  public static ParseResult<Ipv4TcpPacket> readSavedSyn(Channel accepted) {
    ByteBuffer raw;
    try {
      raw = accepted.config().getOption(SocketOptions.TCP_SAVED_SYN);
    } catch (RuntimeException e) {
      return ParseResult.error("TCP_SAVED_SYN not readable: " + e.getMessage());
    }
    if (raw == null) {
      return ParseResult.error("TCP_SAVED_SYN not supported by " + accepted.getClass().getSimpleName());
    }
    return parse(raw);
  }

  /** Parses a TCP_SAVED_SYN buffer (position to limit). */
  public static ParseResult<Ipv4TcpPacket> parse(ByteBuffer raw) {
    byte[] bytes = new byte[raw.remaining()];
    raw.duplicate().get(bytes);
    if (bytes.length == 0) {
      return ParseResult.error("no saved SYN (listener without TCP_SAVE_SYN, or already read)");
    }
    return Ipv4TcpPacket.parseHeaders(bytes, 0, bytes.length);
  }

  /** The probe in a saved SYN; an error when there is none or it is malformed. */
  public static ParseResult<ProbeRequest> probeOf(Ipv4TcpPacket syn, ProbeOptionCodec codec) {
    return syn.options().flatMap(opts -> {
      java.util.Optional<TcpOption> ours = codec.findOurs(opts);
      if (ours.isEmpty()) {
        return ParseResult.error("SYN carries no probe option");
      }
      return codec.decodeRequest(ours.get());
    });
  }
}
