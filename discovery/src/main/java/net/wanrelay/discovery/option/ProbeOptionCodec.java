package net.wanrelay.discovery.option;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.wanrelay.discovery.packet.ParseResult;
import net.wanrelay.discovery.packet.TcpOption;
import net.wanrelay.discovery.packet.TcpOptions;

/**
 * Encodes and strictly decodes the probe and probe-response options (byte layout in
 * docs/DISCOVERY.md). After the option header (kind, length, ExID when the format has one):
 * <pre>
 *   probe:    [ver<<4 | 1] [flags] [nonce u32]                  -> 10 bytes with ExID, 8 without
 *   response: [ver<<4 | 2] [flags] [port u16] [IPv4 x n]        -> 8+4n with ExID, 6+4n without
 * </pre>
 * A Linux SYN-ACK already uses 20 of the 40 option bytes (MSS, SACK-permitted, timestamps, window
 * scale), so a response may use 20: at most {@value #MAX_RESPONSE_ADDRESSES} addresses.
 * Decoders never throw; a malformed option yields an error result with the reason.
 */
public final class ProbeOptionCodec {
  public static final int VERSION = 1;
  public static final int TYPE_PROBE = 1;
  public static final int TYPE_RESPONSE = 2;
  /** Option bytes a response may take on a typical Linux SYN-ACK (40 minus the 20 in use). */
  public static final int RESPONSE_SPACE = 20;
  public static final int MAX_RESPONSE_ADDRESSES = 3;

  private final OptionFormat format;

  public ProbeOptionCodec(OptionFormat format) {
    this.format = format;
  }

  public OptionFormat format() {
    return format;
  }

  public byte[] encodeRequest(ProbeRequest request) {
    byte[] out = new byte[format.headerLength() + 6];
    int i = header(out);
    out[i++] = (byte) ((request.version() << 4) | TYPE_PROBE);
    out[i++] = (byte) request.flags();
    long n = request.nonce();
    out[i++] = (byte) (n >>> 24);
    out[i++] = (byte) (n >>> 16);
    out[i++] = (byte) (n >>> 8);
    out[i] = (byte) n;
    return out;
  }

  public byte[] encodeResponse(ProbeResponse response) {
    byte[] out = new byte[format.headerLength() + 4 + 4 * response.addresses().size()];
    int i = header(out);
    out[i++] = (byte) ((response.version() << 4) | TYPE_RESPONSE);
    out[i++] = (byte) response.flags();
    out[i++] = (byte) (response.port() >>> 8);
    out[i++] = (byte) response.port();
    for (Inet4Address a : response.addresses()) {
      System.arraycopy(a.getAddress(), 0, out, i, 4);
      i += 4;
    }
    return out;
  }

  private int header(byte[] out) {
    out[0] = (byte) format.kind();
    out[1] = (byte) out.length;
    if (format.hasExid()) {
      out[2] = (byte) (format.exid() >>> 8);
      out[3] = (byte) format.exid();
      return 4;
    }
    return 2;
  }

  /** True when the option is ours: our kind and, for formats with one, our ExID. */
  public boolean isOurs(TcpOption option) {
    byte[] b = option.bytes();
    if (option.kind() != format.kind()) {
      return false;
    }
    if (!format.hasExid()) {
      return true;
    }
    return b.length >= 4 && (((b[2] & 0xff) << 8) | (b[3] & 0xff)) == format.exid();
  }

  /** Finds our option among a header's options; empty when none is ours. */
  public Optional<TcpOption> findOurs(TcpOptions options) {
    return options.options().stream().filter(this::isOurs).findFirst();
  }

  public ParseResult<ProbeRequest> decodeRequest(TcpOption option) {
    return decodeRequest(option.bytes());
  }

  public ParseResult<ProbeResponse> decodeResponse(TcpOption option) {
    return decodeResponse(option.bytes());
  }

  /** Decodes a whole probe option (kind and length bytes included). */
  public ParseResult<ProbeRequest> decodeRequest(byte[] b) {
    String bad = checkHeader(b, TYPE_PROBE);
    if (bad != null) {
      return ParseResult.error(bad);
    }
    int i = format.headerLength();
    if (b.length != i + 6) {
      return ParseResult.error("probe option length " + b.length + ", expected " + (i + 6));
    }
    int version = (b[i] & 0xf0) >>> 4;
    int flags = b[i + 1] & 0xff;
    long nonce = ((long) (b[i + 2] & 0xff) << 24) | ((b[i + 3] & 0xff) << 16)
        | ((b[i + 4] & 0xff) << 8) | (b[i + 5] & 0xff);
    return ParseResult.ok(new ProbeRequest(version, flags, nonce));
  }

  /** Decodes a whole probe-response option (kind and length bytes included). */
  public ParseResult<ProbeResponse> decodeResponse(byte[] b) {
    String bad = checkHeader(b, TYPE_RESPONSE);
    if (bad != null) {
      return ParseResult.error(bad);
    }
    int i = format.headerLength();
    int rest = b.length - i - 4;
    if (rest < 4 || rest % 4 != 0) {
      return ParseResult.error("response option length " + b.length
          + ": the address list must be a positive multiple of 4 bytes");
    }
    int count = rest / 4;
    if (count > MAX_RESPONSE_ADDRESSES) {
      return ParseResult.error("response lists " + count + " addresses, at most "
          + MAX_RESPONSE_ADDRESSES + " allowed");
    }
    int version = (b[i] & 0xf0) >>> 4;
    int flags = b[i + 1] & 0xff;
    int port = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
    if (port == 0) {
      return ParseResult.error("response port 0");
    }
    List<Inet4Address> addresses = new ArrayList<>(count);
    for (int k = 0; k < count; k++) {
      byte[] a = Arrays.copyOfRange(b, i + 4 + 4 * k, i + 8 + 4 * k);
      if (a[0] == 0 || (a[0] & 0xff) >= 224) { // 0/8, multicast and reserved cannot be trunk peers
        return ParseResult.error("response address " + k + " is not a unicast address");
      }
      try {
        addresses.add((Inet4Address) InetAddress.getByAddress(a));
      } catch (UnknownHostException e) {
        return ParseResult.error("response address " + k + " invalid");
      }
    }
    return ParseResult.ok(new ProbeResponse(version, flags, port, addresses));
  }

  /** Checks kind, length byte, ExID, version and type; null when all fit. */
  private String checkHeader(byte[] b, int expectedType) {
    if (b == null || b.length < format.headerLength() + 1) {
      return "option too short (" + (b == null ? 0 : b.length) + " bytes)";
    }
    if ((b[0] & 0xff) != format.kind()) {
      return "option kind " + (b[0] & 0xff) + ", expected " + format.kind();
    }
    if ((b[1] & 0xff) != b.length) {
      return "option length byte " + (b[1] & 0xff) + " does not match its size " + b.length;
    }
    if (format.hasExid()) {
      int exid = ((b[2] & 0xff) << 8) | (b[3] & 0xff);
      if (exid != format.exid()) {
        return String.format("ExID 0x%04x, expected 0x%04x", exid, format.exid());
      }
    }
    int i = format.headerLength();
    int version = (b[i] & 0xf0) >>> 4;
    int type = b[i] & 0x0f;
    if (version != VERSION) {
      return "unsupported version " + version + " (this build speaks " + VERSION + ")";
    }
    if (type != expectedType) {
      return "option type " + type + ", expected " + expectedType
          + (expectedType == TYPE_PROBE ? " (probe)" : " (response)");
    }
    return null;
  }
}
