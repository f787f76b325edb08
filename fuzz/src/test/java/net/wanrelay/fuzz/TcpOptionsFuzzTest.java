package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeOptionCodec;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.discovery.option.ProbeResponse;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.ParseResult;
import net.wanrelay.discovery.packet.TcpOption;
import net.wanrelay.discovery.packet.TcpOptions;

/**
 * The discovery parsers on hostile bytes: the TCP option list, the IPv4/TCP packet view (whole
 * packet and saved-SYN headers) and the probe option codec. None may throw; every result is ok or
 * an error with a reason. An ok option list is checked against an independent strict parse and
 * re-serialises to exactly the bytes it came from; a decoded probe or response re-encodes to
 * exactly its input; a parsed packet answers every accessor without throwing.
 */
class TcpOptionsFuzzTest {
  private static final ProbeOptionCodec[] CODECS = {
      new ProbeOptionCodec(OptionFormat.DEFAULT), new ProbeOptionCodec(OptionFormat.withoutExid(76))};

  @FuzzTest
  void parsersNeverThrow(FuzzedDataProvider data) {
    int which = data.consumeInt(0, 2);
    byte[] b = data.consumeRemainingAsBytes();
    switch (which) {
      case 0 -> optionList(b);
      case 1 -> packet(b);
      default -> probeOption(b);
    }
  }

  private static void optionList(byte[] b) {
    int offset = b.length == 0 ? 0 : (b[0] & 0x07);
    int length = Math.max(0, b.length - offset);
    ParseResult<TcpOptions> r = TcpOptions.parse(b, offset, length);
    Integer expectedUsed = referenceParse(b, offset, length);
    assertThat(r.isOk()).as("ok/error differs from the reference parser: " + r.error()).isEqualTo(expectedUsed != null);
    if (!r.isOk()) {
      assertThat(r.error()).isNotBlank();
      return;
    }
    TcpOptions options = r.value();
    assertThat(options.usedLength()).isEqualTo(expectedUsed);
    ByteArrayOutputStream again = new ByteArrayOutputStream();
    options.options().forEach(o -> again.writeBytes(o.bytes()));
    assertThat(again.toByteArray()).isEqualTo(Arrays.copyOfRange(b, offset, offset + options.usedLength()));
    for (ProbeOptionCodec codec : CODECS) {
      codec.findOurs(options).ifPresent(o -> probeOption(o.bytes()));
    }
  }

  /** Strict option-list parse written from RFC 9293 §3.1; the used length, or null when malformed. */
  private static Integer referenceParse(byte[] b, int offset, int length) {
    if (offset + length > b.length || length > 40) {
      return null;
    }
    int i = 0;
    while (i < length) {
      int kind = b[offset + i] & 0xff;
      if (kind == 0) {
        return i;
      }
      if (kind == 1) {
        i++;
        continue;
      }
      if (i + 1 >= length) {
        return null;
      }
      int len = b[offset + i + 1] & 0xff;
      if (len < 2 || i + len > length) {
        return null;
      }
      i += len;
    }
    return i;
  }

  private static void packet(byte[] b) {
    for (boolean headersOnly : new boolean[] {false, true}) {
      ParseResult<Ipv4TcpPacket> r = headersOnly ? Ipv4TcpPacket.parseHeaders(b, 0, b.length) : Ipv4TcpPacket.parse(b);
      if (!r.isOk()) {
        assertThat(r.error()).isNotBlank();
        continue;
      }
      Ipv4TcpPacket p = r.value();
      assertThat(p.options().isOk()).isTrue();
      assertThat(p.length()).isEqualTo(headersOnly ? p.ipHeaderLength() + p.tcpHeaderLength() : p.totalLength());
      assertThat(p.bytes()).isEqualTo(Arrays.copyOf(b, p.length()));
      assertThat(p.toString()).isNotEmpty();
      assertThat(p.sourceSocket().getPort()).isEqualTo(p.sourcePort());
      assertThat(p.destinationSocket().getPort()).isEqualTo(p.destinationPort());
      assertThat(p.isSyn() && p.isSynAck()).isFalse();
      boolean valid = p.checksumsValid();
      if (!headersOnly) {
        assertThat(valid).isEqualTo(Inet.ipHeaderValid(p.bytes()) && Inet.tcpValid(p.bytes()));
      }
    }
  }

  private static void probeOption(byte[] b) {
    for (ProbeOptionCodec codec : CODECS) {
      ParseResult<ProbeRequest> req = codec.decodeRequest(b);
      if (req.isOk()) {
        assertThat(codec.encodeRequest(req.value())).isEqualTo(b);
        assertThat(codec.isOurs(new TcpOption(b[0] & 0xff, b))).isTrue();
      } else {
        assertThat(req.error()).isNotBlank();
      }
      ParseResult<ProbeResponse> resp = codec.decodeResponse(b);
      if (resp.isOk()) {
        assertThat(codec.encodeResponse(resp.value())).isEqualTo(b);
        assertThat(resp.value().peers()).hasSizeBetween(1, ProbeOptionCodec.MAX_RESPONSE_ADDRESSES);
      } else {
        assertThat(resp.error()).isNotBlank();
      }
    }
  }
}
