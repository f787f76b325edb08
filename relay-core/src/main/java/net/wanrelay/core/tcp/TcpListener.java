package net.wanrelay.core.tcp;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelException;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.limits.AcceptRateLimiter;
import net.wanrelay.core.limits.AdmissionLimits;
import net.wanrelay.core.limits.MemoryBudgetHandler;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Route;
import net.wanrelay.core.net.Transport;

/** Accepts client connections on one address and hands each to a {@link TcpLegFactory}. */
public final class TcpListener {
  /** Name of the handler that holds early client data until the far leg is ready. */
  public static final String EARLY_INBOUND = "early-inbound";

  private final String name;
  private final InetSocketAddress listen;
  private final InetSocketAddress target;
  private final Route route;
  private final TcpLegFactory legs;
  private final SessionLimiter limiter;
  private final RelayMetrics metrics;
  private final UnaryOperator<InetSocketAddress> destinations;
  private AdmissionLimits admission = AdmissionLimits.NONE;
  private AcceptRateLimiter acceptRate;
  private final List<Channel> serverChannels = new ArrayList<>();

  public TcpListener(String name, InetSocketAddress listen, InetSocketAddress target, Route route,
      TcpLegFactory legs, SessionLimiter limiter, RelayMetrics metrics, UnaryOperator<InetSocketAddress> destinations) {
    this.name = name;
    this.listen = listen;
    this.target = target;
    this.route = route;
    this.legs = legs;
    this.limiter = limiter;
    this.metrics = metrics;
    this.destinations = destinations;
  }

  public String name() {
    return name;
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) serverChannels.get(0).localAddress();
  }

  /** Accept rate, memory budget and silent timeout for this listener; call before {@link #start}. */
  public TcpListener admissionLimits(AdmissionLimits limits) {
    this.admission = limits;
    this.acceptRate = limits.newAcceptRateLimiter();
    return this;
  }

  /**
   * Binds the listener. With epoll, every worker loop gets its own listening socket on the same
   * address (SO_REUSEPORT) and keeps the connections it accepts: the kernel spreads connections
   * over the loops, and no accept hops from an acceptor thread to a worker (a wake-up and a task
   * per connection, which short sessions paid for). Elsewhere one acceptor feeds all workers.
   */
  public void start(Transport transport, EventLoopGroup boss, EventLoopGroup workers) {
    if (!transport.isEpoll()) {
      bind(bootstrap(transport, boss, workers), listen);
      return;
    }
    // SO_REUSEPORT would also let a second relay of the same user share the port unnoticed: check
    // first with a plain bind that the address is free, so a busy port still fails at start.
    try (ServerSocket probe = new ServerSocket()) {
      probe.bind(listen);
    } catch (IOException e) {
      throw new ChannelException("cannot listen on " + listen + ": " + e.getMessage(), e);
    }
    InetSocketAddress bound = listen;
    for (EventExecutor e : workers) {
      EventLoop loop = (EventLoop) e;
      // port 0: the other loops join the port the first one got
      bound = bind(bootstrap(transport, loop, loop).option(EpollChannelOption.SO_REUSEPORT, true), bound);
    }
  }

  private InetSocketAddress bind(ServerBootstrap bootstrap, InetSocketAddress address) {
    ChannelFuture f = bootstrap.bind(address).awaitUninterruptibly();
    if (!f.isSuccess()) {
      stopAccepting();
      throw new ChannelException("cannot listen on " + address + ": " + f.cause().getMessage(), f.cause());
    }
    serverChannels.add(f.channel());
    return (InetSocketAddress) f.channel().localAddress();
  }

  private ServerBootstrap bootstrap(Transport transport, EventLoopGroup acceptors, EventLoopGroup children) {
    return new ServerBootstrap()
        .group(acceptors, children)
        .channel(transport.serverSocketChannel())
        .option(ChannelOption.SO_BACKLOG, 4096)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, DirectLegFactory.WATER_MARK)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            if (admission.memory() != null) {
              ch.pipeline().addLast(MemoryBudgetHandler.NAME, new MemoryBudgetHandler(admission.memory()));
            }
            ch.pipeline().addLast(new Admission()).addLast(EARLY_INBOUND, new EarlyInbound());
          }
        });
  }

  /** Stops accepting; open sessions go on. */
  public void stopAccepting() {
    serverChannels.forEach(ch -> ch.close().syncUninterruptibly());
  }

  /** Admits or refuses a new connection, then gets out of the pipeline. */
  private final class Admission extends ChannelInboundHandlerAdapter {
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      ctx.pipeline().remove(this);
      String refusal = refusal();
      if (refusal != null) {
        metrics.refused(Protocol.TCP, refusal);
        Sockets.reset(ctx.channel());
        return;
      }
      // The divert map applies to new sessions only; open ones stay where they are.
      InetSocketAddress destination = target == null ? null : destinations.apply(target);
      TcpSession session = new TcpSession(ctx.channel(), route, destination, metrics, limiter);
      if (!admission.silentTimeout().isZero()) {
        ctx.pipeline().addFirst(new SilentSessionCloser(session, admission.silentTimeout()));
      }
      legs.start(session);
    }

    /** Why this connection is refused, or null to admit it (then it holds a session slot). */
    private String refusal() {
      // Cheapest and flood-facing first: a refused connect must not take a slot or a token twice.
      if (acceptRate != null && !acceptRate.tryAcquire()) {
        return "accept_rate";
      }
      if (admission.memory() != null && admission.memory().exceeded()) {
        return "memory";
      }
      if (!limiter.tryAcquire()) {
        return "max_sessions";
      }
      return null;
    }
  }
}
