package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.channel.FuzzTrunk;
import net.wanrelay.channel.StreamAcceptor;
import net.wanrelay.channel.StreamListener;
import net.wanrelay.channel.TrunkConnection;
import net.wanrelay.channel.TrunkMetrics;
import net.wanrelay.channel.TrunkSettings;
import net.wanrelay.channel.TrunkStream;
import net.wanrelay.channel.compress.CompressionSettings;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.FrameDecoder;
import net.wanrelay.channel.frame.FrameEncoder;
import net.wanrelay.channel.frame.FrameType;

/**
 * An authenticated trunk connection (decoder, encoder, multiplexer) fed what a hostile or broken
 * peer might send after the handshake: mostly well-formed frame headers with fuzzed stream ids,
 * flags (compression codec bits) and payloads, mixed with raw bytes. The stream acceptor accepts,
 * rejects or leaves streams pending. Checks: nothing escapes the pipeline, no handler logs an
 * unexpected exception, everything the relay writes is a valid frame, a closed connection said why
 * (GOAWAY written, or the peer's own GOAWAY drained it), and every input buffer is released.
 */
class TrunkConnectionFuzzTest {
  static {
    FuzzLog.install();
  }

  /** Shared across inputs (a registry per input costs more than the input); counters are compared as deltas. */
  private static final TrunkMetrics METRICS = new TrunkMetrics(new SimpleMeterRegistry());

  @FuzzTest
  void survivesAnyPeer(FuzzedDataProvider data) {
    BufferLedger.Mark ledger = BufferLedger.mark();
    boolean initiator = data.consumeBoolean();
    int acceptMode = data.consumeInt(0, 2);
    boolean compressing = data.consumeBoolean();
    long chunkSeed = data.consumeLong();
    double errorsBefore = protocolErrors(METRICS);
    TrunkSettings settings = TrunkSettings.builder().maxFramePayload(4096).maxDataFrame(1024).initialWindow(1024)
        .maxWindow(8192).maxStreams(4).build();
    List<ByteBuf> delivered = new ArrayList<>();
    StreamAcceptor acceptor = stream -> {
      switch (acceptMode) {
        case 0 -> stream.accept(new Sink(delivered));
        case 1 -> stream.reject(ErrorCode.DENIED, "fuzz");
        default -> { } // left pending: 0-RTT data is held by the stream
      }
    };
    TrunkConnection conn = FuzzTrunk.connection(initiator, settings, METRICS, acceptor,
        compressing ? CompressionSettings.LZ4 : CompressionSettings.OFF);
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(settings.maxFramePayload), new FrameEncoder(), conn);
    byte[] wire = TrunkWire.peerBytes(data, 24);
    List<ByteBuf> inputs;
    List<FrameType> written;
    try {
      inputs = TrunkWire.deliver(ch, wire, chunkSeed);
      written = TrunkWire.written(ch);
      boolean open = ch.isOpen();
      if (!open) {
        boolean peerWentAway = containsGoAwayHeader(wire);
        assertThat(written.contains(FrameType.GOAWAY) || peerWentAway)
            .as("connection closed without a GOAWAY, written: " + written).isTrue();
      }
      // Only a protocol violation makes this side send GOAWAY here: it must be counted.
      if (written.contains(FrameType.GOAWAY)) {
        assertThat(protocolErrors(METRICS)).as("GOAWAY sent but no protocol error counted").isGreaterThan(errorsBefore);
      }
    } finally {
      ch.finishAndReleaseAll();
      TrunkWire.written(ch);
    }
    assertThat(FuzzLog.take()).as("unexpected exceptions logged").isEmpty();
    for (ByteBuf b : inputs) {
      assertThat(b.refCnt()).as("input buffer still referenced after close").isZero();
    }
    for (ByteBuf b : delivered) {
      // An empty DATAGRAM arrives as the shared empty buffer (FrameDecoder): no memory, and its
      // release is a no-op, so its count stays 1. The ledger still sees any real buffer leaked.
      if (b != Unpooled.EMPTY_BUFFER) {
        assertThat(b.refCnt()).as("delivered buffer still referenced").isZero();
      }
    }
    ledger.assertBalanced("the session and close");
  }

  private static double protocolErrors(TrunkMetrics m) {
    return m.registry().find("wanrelay.trunk.protocol.errors").counters().stream().mapToDouble(Counter::count).sum();
  }

  /** Conservative: any 9-byte window that looks like a GOAWAY header on stream 0. */
  private static boolean containsGoAwayHeader(byte[] w) {
    for (int i = 0; i + 9 <= w.length; i++) {
      if (w[i] == (byte) FrameType.GOAWAY.code() && w[i + 2] == 0 && w[i + 3] == 0 && w[i + 4] == 0 && w[i + 5] == 0) {
        return true;
      }
    }
    return false;
  }

  /** A local leg that takes everything at once and returns the credit. */
  private static final class Sink implements StreamListener {
    private final List<ByteBuf> delivered;

    Sink(List<ByteBuf> delivered) {
      this.delivered = delivered;
    }

    @Override
    public void onData(TrunkStream stream, ByteBuf data) {
      int n = data.readableBytes();
      delivered.add(data);
      data.release();
      stream.consumed(n);
    }

    @Override
    public void onDatagram(TrunkStream stream, ByteBuf datagram) {
      delivered.add(datagram);
      datagram.release();
    }

    @Override
    public void onFin(TrunkStream stream) {
      stream.shutdownOutput();
    }

    @Override
    public void onReset(TrunkStream stream, ErrorCode code, String message) {}
  }
}
