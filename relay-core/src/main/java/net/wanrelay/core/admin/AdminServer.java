package net.wanrelay.core.admin;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.ReadTimeoutHandler;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import net.wanrelay.core.net.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP endpoint: {@code GET /metrics} (Prometheus text), {@code GET /healthz}, and
 * read-only JSON views registered by other parts. Small and strict: bounded request size, a read
 * timeout, and a clear status for anything it does not serve.
 */
public final class AdminServer {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  private static final int MAX_REQUEST_BYTES = 64 * 1024;

  private final InetSocketAddress listen;
  private final Supplier<String> metrics;
  private final Supplier<Boolean> healthy;
  private final Map<String, Supplier<String>> jsonViews = new ConcurrentHashMap<>();
  private Channel channel;

  public AdminServer(InetSocketAddress listen, Supplier<String> metrics, Supplier<Boolean> healthy) {
    this.listen = listen;
    this.metrics = metrics;
    this.healthy = healthy;
  }

  /** Serves {@code supplier}'s JSON at {@code GET path}. */
  public void addJsonView(String path, Supplier<String> supplier) {
    jsonViews.put(path, supplier);
  }

  public InetSocketAddress localAddress() {
    return (InetSocketAddress) channel.localAddress();
  }

  public void start(Transport transport, EventLoopGroup group) throws InterruptedException {
    channel = new ServerBootstrap()
        .group(group)
        .channel(transport.serverSocketChannel())
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            ch.pipeline()
                .addLast(new ReadTimeoutHandler(30))
                .addLast(new HttpServerCodec(4096, 8192, 8192))
                .addLast(new HttpObjectAggregator(MAX_REQUEST_BYTES))
                .addLast(new Routes());
          }
        })
        .bind(listen).sync().channel();
  }

  public void stop() {
    if (channel != null) {
      channel.close().syncUninterruptibly();
    }
  }

  private final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      if (!request.decoderResult().isSuccess()) {
        respond(ctx, request, HttpResponseStatus.BAD_REQUEST, "text/plain", "bad request\n");
        return;
      }
      String path = new QueryStringDecoder(request.uri()).path();
      if (!request.method().equals(HttpMethod.GET)) {
        respond(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain", "method not allowed\n");
        return;
      }
      switch (path) {
        case "/metrics" -> respond(ctx, request, HttpResponseStatus.OK,
            "text/plain; version=0.0.4; charset=utf-8", metrics.get());
        case "/healthz" -> {
          boolean ok = healthy.get();
          respond(ctx, request, ok ? HttpResponseStatus.OK : HttpResponseStatus.SERVICE_UNAVAILABLE,
              "text/plain", ok ? "ok\n" : "draining\n");
        }
        default -> {
          Supplier<String> view = jsonViews.get(path);
          if (view == null) {
            respond(ctx, request, HttpResponseStatus.NOT_FOUND, "text/plain", "not found\n");
          } else {
            respond(ctx, request, HttpResponseStatus.OK, "application/json", view.get());
          }
        }
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("admin connection closed: {}", cause.toString());
      ctx.close();
    }
  }

  private static void respond(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status,
      String contentType, String body) {
    ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    HttpUtil.setContentLength(response, content.readableBytes());
    boolean keepAlive = HttpUtil.isKeepAlive(request) && status.code() < 400;
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(response);
    } else {
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
