package net.wanrelay.discovery.e2e;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollIoHandler;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import net.wanrelay.discovery.ProbeOutcome;
import net.wanrelay.discovery.Prober;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.pmt.PeerMappingTable;

/**
 * Child process in the CP namespace: binds the probe SYN and SYN-ACK queues and runs probes read
 * from stdin ("PROBE clientIp serverIp port"), answering "OUTCOME kind detail pmt=STATE".
 * Args: probeMark synQueue synAckQueue probeTimeoutMs [kind exid|none].
 */
public final class E2eCpMain {
  private E2eCpMain() {}

  public static void main(String[] args) throws Exception {
    int mark = Integer.decode(args[0]);
    int synQueue = Integer.parseInt(args[1]);
    int synAckQueue = Integer.parseInt(args[2]);
    Duration timeout = Duration.ofMillis(Long.parseLong(args[3]));
    MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1, EpollIoHandler.newFactory());
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    PeerMappingTable pmt = new PeerMappingTable(registry);
    OptionFormat format = args.length > 5 ? format(args[4], args[5]) : OptionFormat.DEFAULT;
    Prober.Config cfg = new Prober.Config(format, mark, timeout, timeout, true);
    try (Prober prober = new Prober(group, cfg, registry).startQueues(synQueue, synAckQueue)) {
      System.out.println("READY");
      System.out.flush();
      BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        String[] w = line.trim().split(" ");
        if (w.length != 4 || !w[0].equals("PROBE")) {
          System.out.println("ERROR bad command " + line);
          continue;
        }
        InetSocketAddress client = new InetSocketAddress(InetAddress.getByName(w[1]), 0);
        InetSocketAddress server = new InetSocketAddress(InetAddress.getByName(w[2]), Integer.parseInt(w[3]));
        ProbeOutcome o = prober.probeAndLearn(client, server, pmt).toCompletableFuture().get(30, TimeUnit.SECONDS);
        String detail;
        if (o instanceof ProbeOutcome.Peer p) {
          detail = "PEER " + p.peers().get(0).getAddress().getHostAddress() + ":" + p.peers().get(0).getPort();
        } else if (o instanceof ProbeOutcome.NoPeer np) {
          detail = "NO_PEER " + echo(np.channel());
        } else if (o instanceof ProbeOutcome.Stripped s) {
          detail = "STRIPPED " + echo(s.channel());
        } else {
          detail = o.getClass().getSimpleName().toUpperCase() + " " + o;
        }
        System.out.println("OUTCOME " + detail + " pmt=" + pmt.lookup(server.getAddress(), server.getPort()).state()
            + " inflight=" + prober.inFlight());
        System.out.flush();
      }
    } finally {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  static OptionFormat format(String kind, String exid) {
    return exid.equals("none") ? OptionFormat.withoutExid(Integer.parseInt(kind))
        : new OptionFormat(Integer.parseInt(kind), Integer.decode(exid));
  }

  /** Uses the returned leg as a pass-through leg would: write a line, read the echo, close. */
  private static String echo(Channel ch) throws Exception {
    CompletableFuture<String> got = new CompletableFuture<>();
    String local = ((InetSocketAddress) ch.localAddress()).getAddress().getHostAddress();
    ch.pipeline().addLast(new SimpleChannelInboundHandler<ByteBuf>() {
      @Override
      protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
        got.complete(msg.toString(StandardCharsets.UTF_8));
      }
    });
    ch.config().setAutoRead(true);
    ch.writeAndFlush(Unpooled.copiedBuffer("hello-" + local, StandardCharsets.UTF_8));
    try {
      return "echo=" + got.get(5, TimeUnit.SECONDS) + " from=" + local;
    } finally {
      ch.close().sync();
    }
  }
}
