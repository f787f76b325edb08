package net.wanrelay.core.tcp;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.timeout.IdleStateHandler;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.limits.MemoryBudgetHandler;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.net.Transport;

/**
 * Connects the server leg itself, on the client's event loop, and copies both ways. A failed
 * connect resets the client, as the server's own refusal would have.
 */
public final class DirectLegFactory implements TcpLegFactory {
  static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(256 * 1024, 1024 * 1024);

  private final Transport transport;
  private final RelayMetrics metrics;
  private final Duration connectTimeout;
  private final Duration idleTimeout;

  public DirectLegFactory(Transport transport, RelayMetrics metrics, Duration connectTimeout, Duration idleTimeout) {
    this.transport = transport;
    this.metrics = metrics;
    this.connectTimeout = connectTimeout;
    this.idleTimeout = idleTimeout;
  }

  @Override
  public void start(TcpSession session) {
    connect(session, session.target());
  }

  /**
   * Like {@link #start} but to {@code target} (a pool member); the returned future lets the caller
   * measure connect latency and follow the server leg's life. The session is ended on every path.
   */
  public ChannelFuture connect(TcpSession session, java.net.InetSocketAddress target) {
    Channel client = session.client();
    Bootstrap bootstrap = new Bootstrap()
        .group(client.eventLoop())
        .channelFactory(transport.socketChannels())
        .option(ChannelOption.AUTO_READ, false)
        .option(ChannelOption.ALLOW_HALF_CLOSURE, true)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, connectTimeout.toMillis()))
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            // Handlers are added once the connect succeeded.
          }
        });
    ChannelFuture connect = bootstrap.connect(target);
    Channel server = connect.channel();
    client.closeFuture().addListener(f -> {
      if (!connect.isDone()) {
        // The client left while we were still connecting: drop the half-made leg.
        session.end(Outcome.RESET);
        server.close();
      }
    });
    connect.addListener(f -> {
      if (!f.isSuccess()) {
        String reason = reason(f.cause());
        metrics.connectFailure(Protocol.TCP, reason);
        session.failure(reason);
        session.end(Outcome.CONNECT_FAILED);
        Sockets.reset(client);
        return;
      }
      if (!client.isActive()) {
        session.end(Outcome.RESET);
        server.close();
        return;
      }
      bridge(session, client, server, metrics, idleTimeout);
    });
    return connect;
  }

  /** Installs the copy handlers on both channels and starts reading both. */
  public static void bridge(TcpSession session, Channel client, Channel server, RelayMetrics metrics, Duration idleTimeout) {
    var route = session.route();
    session.markConnected();
    if (!idleTimeout.isZero()) {
      client.pipeline().addLast(new IdleStateHandler(0, 0, idleTimeout.toMillis(), TimeUnit.MILLISECONDS));
    }
    MemoryBudgetHandler clientBudget = client.pipeline().get(MemoryBudgetHandler.class);
    if (clientBudget != null) {
      server.pipeline().addFirst(MemoryBudgetHandler.NAME, clientBudget.sameBudget());
    }
    client.pipeline().addLast(new CopyHandler(server, session, true, metrics.sessionBytes(Protocol.TCP, route, true)));
    server.pipeline().addLast(new CopyHandler(client, session, false, metrics.sessionBytes(Protocol.TCP, route, false)));
    client.read(); // also hands over what EarlyInbound held
    server.read();
  }

  static String reason(Throwable cause) {
    if (cause instanceof ConnectTimeoutException) {
      return "timeout";
    }
    if (cause instanceof NoRouteToHostException) {
      return "unreachable";
    }
    if (cause instanceof UnknownHostException) {
      return "unknown_host";
    }
    if (cause instanceof ConnectException) {
      String m = String.valueOf(cause.getMessage()).toLowerCase();
      if (m.contains("unreachable") || m.contains("no route")) {
        return "unreachable";
      }
      return "refused";
    }
    return "error";
  }
}
