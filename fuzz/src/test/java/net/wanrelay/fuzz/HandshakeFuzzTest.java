package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import net.wanrelay.channel.PskHandshakeHandler;
import net.wanrelay.channel.TrunkMetrics;
import net.wanrelay.channel.TrunkSettings;
import net.wanrelay.channel.frame.FrameDecoder;
import net.wanrelay.channel.frame.FrameEncoder;
import net.wanrelay.channel.frame.FrameType;

/**
 * The PSK handshake as an unauthenticated peer sees it, on either side: HELLO frames with fuzzed
 * fields (versions, role, node id length, windows), AUTH proofs of fuzzed length, GOAWAY, other
 * frames before authentication, raw bytes. Without the key the peer must never be installed;
 * nothing escapes; a closed connection counted an auth failure or a protocol error; the relay's
 * own output is valid frames; every input buffer is released.
 */
class HandshakeFuzzTest {
  private static final byte[] KEY = "fuzz-key-0123456789abcdef".getBytes(StandardCharsets.UTF_8);

  static {
    FuzzLog.install();
  }

  /** Shared across inputs (a registry per input costs more than the input); counters are compared as deltas. */
  private static final TrunkMetrics METRICS = new TrunkMetrics(new SimpleMeterRegistry());

  @FuzzTest
  void unauthenticatedPeerIsNeverInstalled(FuzzedDataProvider data) {
    BufferLedger.Mark ledger = BufferLedger.mark();
    boolean initiator = data.consumeBoolean();
    long chunkSeed = data.consumeLong();
    double reasonsBefore = count(METRICS, "wanrelay.trunk.auth.failures") + count(METRICS, "wanrelay.trunk.protocol.errors");
    TrunkSettings settings = TrunkSettings.builder().maxFramePayload(4096).maxDataFrame(1024).build();
    boolean[] installed = {false};
    PskHandshakeHandler handshake = new PskHandshakeHandler(initiator, initiator ? "cp" : "sp", KEY, settings, 0,
        METRICS, (ctx, local, remote) -> {
          installed[0] = true;
          return null;
        });
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(settings.maxFramePayload), new FrameEncoder(), handshake);
    byte[] wire = handshakeBytes(data, initiator);
    List<ByteBuf> inputs;
    try {
      inputs = TrunkWire.deliver(ch, wire, chunkSeed);
      List<FrameType> written = TrunkWire.written(ch);
      assertThat(written).as("only handshake frames before authentication")
          .allMatch(t -> t == FrameType.HELLO || t == FrameType.AUTH || t == FrameType.GOAWAY);
      if (!ch.isOpen()) {
        assertThat(count(METRICS, "wanrelay.trunk.auth.failures") + count(METRICS, "wanrelay.trunk.protocol.errors"))
            .as("handshake closed without a counted reason").isGreaterThan(reasonsBefore);
      }
    } finally {
      ch.finishAndReleaseAll();
      TrunkWire.written(ch);
    }
    assertThat(installed[0]).as("a peer without the key was authenticated").isFalse();
    assertThat(FuzzLog.take()).as("unexpected exceptions logged").isEmpty();
    for (ByteBuf b : inputs) {
      assertThat(b.refCnt()).as("input buffer still referenced after close").isZero();
    }
    ledger.assertBalanced("the handshake and close");
  }

  private static double count(TrunkMetrics m, String name) {
    return m.registry().find(name).counters().stream().mapToDouble(Counter::count).sum();
  }

  private static byte[] handshakeBytes(FuzzedDataProvider data, boolean localInitiator) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < 6 && data.remainingBytes() > 0; i++) {
      switch (data.consumeInt(0, 5)) {
        case 0, 1 -> TrunkWire.frame(out, FrameType.HELLO.code(), 0, 0, hello(data, localInitiator));
        case 2 -> TrunkWire.frame(out, FrameType.AUTH.code(), 0, 0,
            data.consumeBoolean() ? data.consumeBytes(32) : data.consumeBytes(data.consumeInt(0, 40)));
        case 3 -> TrunkWire.frame(out, FrameType.GOAWAY.code(), 0, 0, data.consumeBytes(data.consumeInt(0, 20)));
        case 4 -> out.writeBytes(TrunkWire.peerBytes(data, 2));
        default -> out.writeBytes(data.consumeBytes(data.consumeInt(0, 24)));
      }
    }
    return out.toByteArray();
  }

  /** A HELLO that is right more often than not, so the fuzzer reaches the AUTH step. */
  private static byte[] hello(FuzzedDataProvider data, boolean localInitiator) {
    if (data.consumeInt(0, 7) == 0) {
      return data.consumeBytes(data.consumeInt(0, 120));
    }
    ByteArrayOutputStream p = new ByteArrayOutputStream();
    boolean valid = data.consumeBoolean();
    p.write(valid ? 1 : data.consumeInt(0, 255));
    p.write(valid ? 1 : data.consumeInt(0, 255));
    p.write(valid ? (localInitiator ? 1 : 0) : data.consumeInt(0, 3));
    p.write(0);
    byte[] nonce = data.consumeBytes(32);
    p.writeBytes(nonce);
    p.writeBytes(new byte[32 - nonce.length]);
    p.writeBytes(TrunkWire.int32(data.consumeInt()));
    p.writeBytes(TrunkWire.int32(valid ? 65536 : data.consumeInt()));
    p.writeBytes(TrunkWire.int32(valid ? 100 : data.consumeInt()));
    byte[] id = data.consumeBytes(data.consumeInt(0, 70));
    p.write(valid ? Math.max(1, id.length) : data.consumeInt(0, 255));
    p.writeBytes(id.length == 0 && valid ? new byte[] {'x'} : id);
    return p.toByteArray();
  }
}
