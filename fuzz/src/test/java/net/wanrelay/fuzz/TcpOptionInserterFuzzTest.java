package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeOptionCodec;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.discovery.option.ProbeResponse;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.ParseResult;
import net.wanrelay.discovery.packet.TcpOption;
import net.wanrelay.discovery.packet.TcpOptionInserter;

/**
 * The SYN / SYN-ACK rewriter on fuzzed packets (mostly plausible IPv4/TCP with fuzzed IP options,
 * TCP options, payload and lengths; sometimes raw bytes) and fuzzed options to insert (real probe
 * and response encodings, or raw). Never throws. When it changes a packet: the result parses, both
 * checksums verify under an independent implementation, the original options come first in their
 * order followed only by NOP padding and exactly the inserted option, the packet grew by a multiple
 * of 4, and every other header field and the payload are untouched. When it does not, it hands
 * back the input bytes with a reason.
 */
class TcpOptionInserterFuzzTest {

  @FuzzTest
  void rewritesOrLeavesAlone(FuzzedDataProvider data) throws UnknownHostException {
    byte[] option = option(data);
    byte[] packet = data.consumeInt(0, 9) == 0 ? data.consumeRemainingAsBytes() : packet(data);
    byte[] before = packet.clone();

    TcpOptionInserter.Result r = TcpOptionInserter.insert(packet, option);

    assertThat(packet).as("input mutated").isEqualTo(before);
    if (!r.changed()) {
      assertThat(r.packet()).isSameAs(packet);
      assertThat(r.reason()).isNotBlank();
      return;
    }
    Ipv4TcpPacket old = Ipv4TcpPacket.parse(packet).value();
    ParseResult<Ipv4TcpPacket> parsed = Ipv4TcpPacket.parse(r.packet());
    assertThat(parsed.isOk()).as("rewritten packet does not parse: " + parsed.error()).isTrue();
    Ipv4TcpPacket now = parsed.value();
    byte[] out = r.packet();
    assertThat(Inet.ipHeaderValid(out)).as("IP header checksum").isTrue();
    assertThat(Inet.tcpValid(out)).as("TCP checksum").isTrue();
    assertThat(now.checksumsValid()).isTrue();

    int grew = now.totalLength() - old.totalLength();
    assertThat(grew % 4).isZero();
    // By design the rewriter drops an end-of-list marker and whatever follows it in the option
    // area, so the packet only grows when the old option area had no such tail.
    boolean hadTail = old.options().value().usedLength() < old.tcpHeaderLength() - 20;
    if (!hadTail) {
      assertThat(grew).isPositive();
    }
    assertThat(out.length).isEqualTo(now.totalLength());
    assertThat(now.tcpHeaderLength() % 4).isZero();

    List<TcpOption> oldOptions = old.options().value().options();
    List<TcpOption> newOptions = now.options().value().options();
    assertThat(newOptions.subList(0, oldOptions.size())).isEqualTo(oldOptions);
    List<TcpOption> added = new ArrayList<>(newOptions.subList(oldOptions.size(), newOptions.size()));
    assertThat(added).isNotEmpty();
    assertThat(added.remove(added.size() - 1).bytes()).isEqualTo(option);
    assertThat(added).allMatch(o -> o.kind() == TcpOption.NOP);

    byte[] in = old.bytes();
    int ihl = old.ipHeaderLength();
    // IP header: only total length (2..3) and checksum (10..11) may change.
    assertThat(Arrays.copyOfRange(out, 0, 2)).isEqualTo(Arrays.copyOfRange(in, 0, 2));
    assertThat(Arrays.copyOfRange(out, 4, 10)).isEqualTo(Arrays.copyOfRange(in, 4, 10));
    assertThat(Arrays.copyOfRange(out, 12, ihl)).isEqualTo(Arrays.copyOfRange(in, 12, ihl));
    // TCP header: ports, seq, ack (0..11), flags and window (13..15), urgent pointer (18..19).
    assertThat(Arrays.copyOfRange(out, ihl, ihl + 12)).isEqualTo(Arrays.copyOfRange(in, ihl, ihl + 12));
    assertThat(out[ihl + 12] & 0x0f).isEqualTo(in[ihl + 12] & 0x0f);
    assertThat(Arrays.copyOfRange(out, ihl + 13, ihl + 16)).isEqualTo(Arrays.copyOfRange(in, ihl + 13, ihl + 16));
    assertThat(Arrays.copyOfRange(out, ihl + 18, ihl + 20)).isEqualTo(Arrays.copyOfRange(in, ihl + 18, ihl + 20));
    byte[] oldPayload = Arrays.copyOfRange(in, ihl + old.tcpHeaderLength(), in.length);
    byte[] newPayload = Arrays.copyOfRange(out, ihl + now.tcpHeaderLength(), out.length);
    assertThat(newPayload).isEqualTo(oldPayload);
  }

  private static byte[] option(FuzzedDataProvider data) throws UnknownHostException {
    ProbeOptionCodec codec = new ProbeOptionCodec(data.consumeBoolean() ? OptionFormat.DEFAULT : OptionFormat.withoutExid(76));
    switch (data.consumeInt(0, 3)) {
      case 0:
        return codec.encodeRequest(new ProbeRequest(ProbeOptionCodec.VERSION, data.consumeInt(0, 255),
            data.consumeLong(0, 0xffffffffL)));
      case 1: {
        List<Inet4Address> addrs = new ArrayList<>();
        int n = data.consumeInt(1, ProbeOptionCodec.MAX_RESPONSE_ADDRESSES);
        for (int i = 0; i < n; i++) {
          addrs.add((Inet4Address) InetAddress.getByAddress(new byte[] {10, 0, 0, (byte) data.consumeInt(1, 254)}));
        }
        return codec.encodeResponse(new ProbeResponse(ProbeOptionCodec.VERSION, 0, data.consumeInt(1, 65535), addrs));
      }
      case 2: {
        byte[] body = data.consumeBytes(data.consumeInt(0, 38));
        byte[] o = new byte[body.length + 2];
        o[0] = (byte) data.consumeInt(2, 255);
        o[1] = (byte) o.length;
        System.arraycopy(body, 0, o, 2, body.length);
        return o;
      }
      default:
        return data.consumeBytes(data.consumeInt(0, 12));
    }
  }

  /** A plausible IPv4 TCP segment; lengths and checksums are right unless the fuzzer says otherwise. */
  private static byte[] packet(FuzzedDataProvider data) {
    byte[] ipOptions = data.consumeBytes(4 * data.consumeInt(0, 2));
    byte[] tcpOptions = tcpOptions(data);
    int tcpOptLen = (tcpOptions.length + 3) / 4 * 4;
    byte[] payload = data.consumeBytes(data.consumeInt(0, 64));
    int ihl = 20 + ipOptions.length;
    int doff = 20 + tcpOptLen;
    int total = ihl + doff + payload.length;
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    p.write(0x40 | (ihl / 4));
    p.write(0);
    boolean lengthRight = data.consumeInt(0, 7) != 0;
    int totalField = lengthRight ? total : data.consumeInt(0, 0xffff);
    p.write(totalField >>> 8);
    p.write(totalField);
    p.writeBytes(new byte[] {0x12, 0x34, (byte) (data.consumeInt(0, 15) == 0 ? 0x20 : 0x40), 0, 64, 6, 0, 0});
    p.writeBytes(new byte[] {10, 0, 0, 1, 10, 0, 0, 2});
    p.writeBytes(ipOptions);
    p.writeBytes(new byte[] {(byte) 0xc0, 0x01, 0x00, 80});
    p.writeBytes(TrunkWire.int32(data.consumeInt()));
    p.writeBytes(TrunkWire.int32(data.consumeInt()));
    p.write((data.consumeInt(0, 7) == 0 ? data.consumeInt(0, 15) : doff / 4) << 4);
    p.write(data.consumeBoolean() ? 0x02 : 0x12);
    p.writeBytes(new byte[] {(byte) 0xfa, (byte) 0xf0, 0, 0, 0, 0});
    p.writeBytes(tcpOptions);
    p.writeBytes(new byte[tcpOptLen - tcpOptions.length]);
    p.writeBytes(payload);
    p.writeBytes(data.consumeBytes(data.consumeInt(0, 3))); // link-layer padding past the total length
    return p.toByteArray();
  }

  private static byte[] tcpOptions(FuzzedDataProvider data) {
    if (data.consumeInt(0, 4) == 0) {
      return data.consumeBytes(data.consumeInt(0, 40));
    }
    ByteArrayOutputStream o = new ByteArrayOutputStream();
    int n = data.consumeInt(0, 6);
    for (int i = 0; i < n; i++) {
      switch (data.consumeInt(0, 5)) {
        case 0 -> o.writeBytes(new byte[] {2, 4, 0x05, (byte) 0xb4});
        case 1 -> o.writeBytes(new byte[] {4, 2});
        case 2 -> o.writeBytes(new byte[] {8, 10, 1, 2, 3, 4, 0, 0, 0, 0});
        case 3 -> o.writeBytes(new byte[] {1, 3, 3, 7});
        case 4 -> o.write(data.consumeBoolean() ? 1 : 0);
        default -> {
          byte[] body = data.consumeBytes(data.consumeInt(0, 10));
          o.write(data.consumeInt(5, 254));
          o.write(body.length + 2);
          o.writeBytes(body);
        }
      }
    }
    byte[] b = o.toByteArray();
    return b.length > 40 ? Arrays.copyOf(b, 40) : b;
  }
}
