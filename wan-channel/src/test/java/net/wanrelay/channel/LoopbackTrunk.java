package net.wanrelay.channel;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Two trunk nodes on loopback: "sp" listens (allow-list 127.0.0.0/8), "cp" links to it, and a
 * front listener on the CP bridges every accepted client to {@link #target} over the trunk.
 */
final class LoopbackTrunk implements AutoCloseable {
  static final byte[] KEY = "loopback-test-key-0123456789".getBytes(StandardCharsets.UTF_8);

  final EventLoopGroup group;
  final SimpleMeterRegistry spRegistry = new SimpleMeterRegistry();
  final SimpleMeterRegistry cpRegistry = new SimpleMeterRegistry();
  final TrunkSettings settings;
  TrunkNode sp;
  final TrunkNode cp;
  final Channel front;
  volatile InetSocketAddress target;
  int spPort;
  private DedupSettings spDedup;

  static TrunkSettings testSettings() {
    return TrunkSettings.builder()
        .heartbeatInterval(Duration.ofMillis(300))
        .heartbeatTimeout(Duration.ofSeconds(5))
        .reconnectBackoff(Duration.ofMillis(50), Duration.ofMillis(400))
        .connectTimeout(Duration.ofSeconds(2))
        .build();
  }

  LoopbackTrunk(EventLoopGroup group, TrunkSettings settings, int connections, String compression) throws Exception {
    this(group, settings, connections, compression, KEY);
  }

  LoopbackTrunk(EventLoopGroup group, TrunkSettings settings, int connections, String compression, byte[] cpKey)
      throws Exception {
    this(group, settings, connections, compression, cpKey, null, null);
  }

  /** With dedup settings per node (null: the node does not de-duplicate). */
  LoopbackTrunk(EventLoopGroup group, TrunkSettings settings, int connections, String compression, byte[] cpKey,
      DedupSettings cpDedup, DedupSettings spDedup) throws Exception {
    this.group = group;
    this.settings = settings;
    this.spDedup = spDedup;
    sp = startSp(0, compression);
    spPort = sp.boundAddress().getPort();
    cp = TrunkNode.builder().nodeId("cp").eventLoopGroup(group).meterRegistry(cpRegistry).settings(settings)
        .peer(new PeerSpec("sp", "127.0.0.1", spPort, cpKey, connections))
        .congestionControl("cubic").compression(compression).dedup(cpDedup)
        .build().start();
    front = new ServerBootstrap().group(group).channel(Transports.serverChannel(group))
        .childOption(ChannelOption.AUTO_READ, false)
        .childHandler(new io.netty.channel.ChannelInitializer<Channel>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline().addLast(new ChannelInboundHandlerAdapter() {
              @Override
              public void channelActive(ChannelHandlerContext ctx) {
                ctx.pipeline().remove(this);
                cp.link("sp").openTcp(ctx.channel(), target, (InetSocketAddress) ctx.channel().remoteAddress());
              }
            });
          }
        })
        .bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
  }

  TrunkNode startSp(int port, String compression) throws Exception {
    return TrunkNode.builder().nodeId("sp").eventLoopGroup(group).meterRegistry(spRegistry).settings(settings)
        .listen(new InetSocketAddress("127.0.0.1", port)).serverKey(KEY)
        .allow(List.of("127.0.0.0/8")).compression(compression).dedup(spDedup)
        .build().start();
  }

  InetSocketAddress frontAddress() {
    return (InetSocketAddress) front.localAddress();
  }

  PeerLink link() {
    return cp.link("sp");
  }

  /** Metrics of the CP's view of the SP. */
  TrunkMetrics.Peer cpPeer() {
    return cp.metrics().peer("sp");
  }

  /** Metrics of the SP's view of the CP. */
  TrunkMetrics.Peer spPeer() {
    return sp.metrics().peer("cp");
  }

  void awaitUp(int connections) {
    await(() -> link().connectionsUp() >= connections, 10_000, "trunk up");
  }

  static void await(BooleanSupplier cond, long millis, String what) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    front.close().awaitUninterruptibly();
    cp.shutdown(Duration.ofMillis(500));
    if (sp != null) {
      sp.shutdown(Duration.ofMillis(500));
    }
  }
}
