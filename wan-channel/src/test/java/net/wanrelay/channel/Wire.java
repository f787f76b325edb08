package net.wanrelay.channel;

import io.netty.buffer.ByteBuf;
import io.netty.channel.embedded.EmbeddedChannel;
import java.util.ArrayList;
import java.util.List;
import net.wanrelay.channel.compress.CompressionSettings;
import net.wanrelay.channel.compress.Decompressor;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameDecoder;
import net.wanrelay.channel.frame.FrameEncoder;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.Hello;

/** EmbeddedChannel helpers: raw frames in, decoded frames out. */
final class Wire {
  private Wire() {}

  static Hello hello(int role, int window, int maxStreams, String id) {
    return new Hello(1, 1, role, new byte[32], Hello.CAP_LZ4 | Hello.CAP_ZSTD | Hello.CAP_UDP, window, maxStreams, id);
  }

  /** An authenticated connection handler (handshake skipped) on an EmbeddedChannel. */
  static EmbeddedChannel connection(boolean initiator, TrunkSettings s, TrunkMetrics m, StreamAcceptor acceptor) {
    Hello remote = hello(initiator ? Hello.ROLE_ACCEPTOR : Hello.ROLE_INITIATOR, s.initialWindow, s.maxStreams, "peer");
    TrunkConnection c = new TrunkConnection(s, initiator, remote, m, m.peer("peer"), acceptor,
        CompressionSettings.OFF, new Decompressor());
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(s.maxFramePayload), new FrameEncoder(), c);
    ch.runPendingTasks();
    drop(out(ch)); // initial PING
    return ch;
  }

  /** Like {@link #connection} with this node's dedup stores and the peer's HELLO capabilities. */
  static EmbeddedChannel dedupConnection(TrunkSettings s, TrunkMetrics m, StreamAcceptor acceptor, DedupPeers dedup,
      int remoteCaps) {
    Hello remote = new Hello(1, 1, Hello.ROLE_INITIATOR, new byte[32], remoteCaps, s.initialWindow, s.maxStreams, "peer");
    TrunkConnection c = new TrunkConnection(s, false, remote, m, m.peer("peer"), acceptor,
        CompressionSettings.OFF, new Decompressor(), dedup);
    EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(s.maxFramePayload), new FrameEncoder(), c);
    ch.runPendingTasks();
    drop(out(ch)); // initial PING
    return ch;
  }

  static TrunkConnection conn(EmbeddedChannel ch) {
    return ch.pipeline().get(TrunkConnection.class);
  }

  /** Encodes frames and writes them inbound as raw bytes. */
  static void in(EmbeddedChannel ch, Frame... frames) {
    EmbeddedChannel enc = new EmbeddedChannel(new FrameEncoder());
    for (Frame f : frames) {
      enc.writeOutbound(f);
    }
    io.netty.buffer.CompositeByteBuf all = io.netty.buffer.Unpooled.compositeBuffer(1024);
    ByteBuf b;
    while ((b = enc.readOutbound()) != null) {
      all.addComponent(true, b);
    }
    enc.finishAndReleaseAll();
    if (ch.isOpen()) {
      ch.writeInbound(all);
    } else {
      all.release();
    }
    ch.runPendingTasks();
  }

  /** Decodes everything the channel wrote. */
  static List<Frame> out(EmbeddedChannel ch) {
    ch.runPendingTasks();
    EmbeddedChannel dec = new EmbeddedChannel(new FrameDecoder(1 << 20));
    Object o;
    while ((o = ch.readOutbound()) != null) {
      dec.writeInbound(o);
    }
    List<Frame> frames = new ArrayList<>();
    Frame f;
    while ((f = dec.readInbound()) != null) {
      frames.add(f);
    }
    dec.finishAndReleaseAll();
    return frames;
  }

  static List<FrameType> types(List<Frame> frames) {
    return frames.stream().map(Frame::type).toList();
  }

  static void drop(List<Frame> frames) {
    frames.forEach(Frame::release);
  }

  /** Moves bytes between two channels until neither writes anything more. */
  static void shuttle(EmbeddedChannel a, EmbeddedChannel b) {
    for (int i = 0; i < 50; i++) {
      a.runPendingTasks();
      b.runPendingTasks();
      boolean moved = move(a, b) | move(b, a);
      if (!moved) {
        return;
      }
    }
  }

  private static boolean move(EmbeddedChannel from, EmbeddedChannel to) {
    boolean moved = false;
    Object o;
    while ((o = from.readOutbound()) != null) {
      moved = true;
      if (to.isOpen()) {
        to.writeInbound(o);
      } else {
        io.netty.util.ReferenceCountUtil.release(o);
      }
    }
    return moved;
  }
}
