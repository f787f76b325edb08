package net.wanrelay.it.discovery;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.option.ProbeOptionCodec;
import net.wanrelay.discovery.option.ProbeRequest;
import net.wanrelay.discovery.option.ProbeResponse;
import net.wanrelay.discovery.packet.Ipv4TcpPacket;
import net.wanrelay.discovery.packet.ParseResult;
import net.wanrelay.discovery.packet.TcpOption;
import net.wanrelay.it.netns.NsProcess;
import net.wanrelay.it.netns.Topology;

/**
 * tcpdump on one interface of a namespace (SYN and SYN-ACK segments only, headers only), read back
 * with {@link PcapReader} and decoded with the discovery module's own parsers.
 */
final class WanCapture implements AutoCloseable {
  /** One captured SYN or SYN-ACK and the discovery option it carried, decoded (empty when none). */
  record Syn(Ipv4TcpPacket packet, Optional<ProbeRequest> probe, Optional<ProbeResponse> response,
      boolean hasUnknownOption) {
    boolean isSynAck() {
      return packet.isSynAck();
    }

    String to() {
      return packet.destination().getHostAddress() + ":" + packet.destinationPort();
    }

    String from() {
      return packet.source().getHostAddress() + ":" + packet.sourcePort();
    }

    @Override
    public String toString() {
      return (isSynAck() ? "SYN-ACK " : "SYN ") + from() + " > " + to() + probe.map(p -> " probe " + p).orElse("")
          + response.map(r -> " response " + r).orElse("");
    }
  }

  private final NsProcess tcpdump;
  private final Path file;

  private WanCapture(NsProcess tcpdump, Path file) {
    this.tcpdump = tcpdump;
    this.file = file;
  }

  /** Starts {@code tcpdump -i iface} in the node's namespace and waits until it listens. */
  static WanCapture start(Topology t, String node, String iface, Path file) throws IOException {
    Files.deleteIfExists(file);
    // --immediate-mode: hand each packet to tcpdump at once (TPACKET_V3 otherwise holds a block
    // until it fills or times out, and packets of the last second were lost on stop)
    NsProcess p = t.spawn(node, List.of("tcpdump", "-i", iface, "-n", "--immediate-mode", "-U", "-s", "160", "-w",
        file.toString(),
        "tcp[tcpflags] & tcp-syn != 0"));
    p.awaitLine(Pattern.compile("listening on"), Duration.ofSeconds(15));
    return new WanCapture(p, file);
  }

  /** Stops tcpdump (SIGTERM flushes the file) and decodes what it saw. */
  List<Syn> stop(OptionFormat format) throws IOException {
    try {
      Thread.sleep(300); // let the last packets reach the file
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    tcpdump.close();
    ProbeOptionCodec codec = new ProbeOptionCodec(format);
    List<Syn> out = new ArrayList<>();
    for (PcapReader.Frame f : PcapReader.ipv4Frames(Files.readAllBytes(file))) {
      ParseResult<Ipv4TcpPacket> parsed = Ipv4TcpPacket.parseHeaders(f.ipPacket(), 0, f.ipPacket().length);
      if (!parsed.isOk()) {
        throw new IllegalStateException("captured packet unparseable: " + parsed.error());
      }
      Ipv4TcpPacket p = parsed.value();
      Optional<TcpOption> ours = codec.findOurs(p.options().value());
      Optional<ProbeRequest> probe = ours.flatMap(o -> ok(codec.decodeRequest(o)));
      Optional<ProbeResponse> response = ours.flatMap(o -> ok(codec.decodeResponse(o)));
      boolean unknown = p.options().value().options().stream().anyMatch(o -> o.kind() > 8 || o.kind() == 5 || o.kind() == 6
          || o.kind() == 7);
      out.add(new Syn(p, probe, response, unknown));
    }
    return out;
  }

  private static <T> Optional<T> ok(ParseResult<T> r) {
    return r.isOk() ? Optional.of(r.value()) : Optional.empty();
  }

  @Override
  public void close() {
    tcpdump.close();
  }
}
