package net.wanrelay.core.transparent;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.channel.socket.DatagramPacket;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.core.metrics.RelayMetrics;
import org.junit.jupiter.api.Test;

/** The listener's handler: each datagram keyed by (sender, original destination), bad ones dropped and counted. */
class TransparentUdpListenerTest {
  private final RelayMetrics metrics = new RelayMetrics();
  private final List<FlowTable.Key> keys = new ArrayList<>();
  private final List<String> payloads = new ArrayList<>();

  private EmbeddedChannel channel() {
    return new EmbeddedChannel(new TransparentUdpListener.OriginalDestination((key, payload) -> {
      keys.add(key);
      payloads.add(payload.toString(StandardCharsets.UTF_8));
      payload.release();
    }, metrics));
  }

  private static DatagramPacket packet(String s, InetSocketAddress to, InetSocketAddress from) {
    return new DatagramPacket(Unpooled.copiedBuffer(s, StandardCharsets.UTF_8), to, from);
  }

  @Test
  void theRecipientIsTheOriginalDestination() {
    EmbeddedChannel ch = channel();
    InetSocketAddress client = new InetSocketAddress("10.9.0.1", 40001);
    InetSocketAddress server = new InetSocketAddress("10.9.3.2", 5300);
    DatagramPacket p = packet("hello", server, client);
    ByteBuf content = p.content();
    ch.writeInbound(p);
    assertThat(keys).containsExactly(new FlowTable.Key(client, server));
    assertThat(payloads).containsExactly("hello");
    assertThat(content.refCnt()).as("released after the sink took its reference").isZero();
    assertThat(ch.finish()).isFalse();
  }

  @Test
  void withoutAnOriginalDestinationTheDatagramIsDroppedAndCounted() {
    EmbeddedChannel ch = channel();
    InetSocketAddress client = new InetSocketAddress("10.9.0.1", 40001);
    DatagramPacket wildcard = packet("x", new InetSocketAddress("0.0.0.0", 7777), client);
    DatagramPacket portZero = packet("y", new InetSocketAddress("10.9.3.2", 0), client);
    ch.writeInbound(wildcard, portZero);
    assertThat(keys).isEmpty();
    assertThat(wildcard.refCnt()).isZero();
    assertThat(portZero.refCnt()).isZero();
    Counter c = metrics.registry().find("wanrelay.udp.dropped").tag("reason", "no_original_destination").counter();
    assertThat(c.count()).isEqualTo(2);
    assertThat(ch.finish()).isFalse();
  }
}
