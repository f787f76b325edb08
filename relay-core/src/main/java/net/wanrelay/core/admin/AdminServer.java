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
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import net.wanrelay.core.net.Transport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin HTTP endpoint: {@code GET /metrics} (Prometheus text), {@code GET /healthz}, read-only
 * JSON views and JSON API routes registered by other parts. Reads are open; any other method needs
 * {@code Authorization: Bearer <admin-token>} (401 without or with a wrong one, 403 when no token is
 * configured). Small and strict: bounded request size, a read timeout, a clear JSON error for
 * anything it does not serve, and {@code wanrelay_admin_requests_total{path,status}}.
 */
public final class AdminServer {
  private static final Logger log = LoggerFactory.getLogger(AdminServer.class);
  private static final int MAX_REQUEST_BYTES = 64 * 1024;
  private static final String JSON = "application/json";

  /** A request to an API route: method, path, decoded query parameters and the body as text. */
  public record ApiRequest(HttpMethod method, String path, Map<String, List<String>> query, String body) {
    /** The first value of query parameter {@code name}, or a 400 if it is missing or empty. */
    public String requiredParam(String name) {
      List<String> values = query.get(name);
      if (values == null || values.isEmpty() || values.get(0).isBlank()) {
        throw new ApiException(400, "missing query parameter '" + name + "'");
      }
      return values.get(0);
    }
  }

  /** A JSON answer. */
  public record ApiResponse(int status, String json) {
    public static ApiResponse ok(String json) {
      return new ApiResponse(200, json);
    }
  }

  /** Thrown by a route to answer with {@code status} and {@code {"error": message}}. */
  public static final class ApiException extends RuntimeException {
    private final int status;

    public ApiException(int status, String message) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** Handles one API call; runs on the admin event loop, so it must not block. */
  @FunctionalInterface
  public interface ApiHandler {
    ApiResponse handle(ApiRequest request);
  }

  private final InetSocketAddress listen;
  private final Supplier<String> metrics;
  private final Supplier<Boolean> healthy;
  private final Map<String, Supplier<String>> jsonViews = new ConcurrentHashMap<>();
  private final Map<String, Map<HttpMethod, ApiHandler>> routes = new ConcurrentHashMap<>();
  private final Map<String, Counter> requestCounters = new ConcurrentHashMap<>();
  private volatile Optional<byte[]> token = Optional.empty();
  private volatile MeterRegistry registry;
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

  /** Serves an API route. Anything but GET requires the admin token. */
  public void addRoute(HttpMethod method, String path, ApiHandler handler) {
    routes.computeIfAbsent(path, p -> new ConcurrentHashMap<>()).put(method, handler);
  }

  /** The bearer token that allows changes; empty refuses every change with 403. */
  public void adminToken(Optional<String> adminToken) {
    token = adminToken.filter(t -> !t.isEmpty()).map(t -> t.getBytes(StandardCharsets.UTF_8));
  }

  /** Counts requests as {@code wanrelay_admin_requests_total{path,status}} in {@code meters}. */
  public void countRequestsIn(MeterRegistry meters) {
    this.registry = meters;
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

  private boolean known(String path) {
    return path.equals("/metrics") || path.equals("/healthz") || jsonViews.containsKey(path) || routes.containsKey(path);
  }

  private void count(String path, int status) {
    MeterRegistry meters = registry;
    if (meters == null) {
      return;
    }
    // Unknown paths share one label so a scanner cannot blow up the series count.
    String label = known(path) ? path : "other";
    requestCounters.computeIfAbsent(label + " " + status, k -> Counter.builder("wanrelay.admin.requests")
        .description("Admin HTTP requests by path and status")
        .tag("path", label).tag("status", Integer.toString(status)).register(meters)).increment();
  }

  /** 0 when the request may change things, else the refusal status. */
  private int authorize(FullHttpRequest request) {
    Optional<byte[]> expected = token;
    if (expected.isEmpty()) {
      return 403;
    }
    String header = request.headers().get(HttpHeaderNames.AUTHORIZATION);
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return 401;
    }
    byte[] given = header.substring(7).trim().getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, expected.get()) ? 0 : 401;
  }

  private final class Routes extends SimpleChannelInboundHandler<FullHttpRequest> {
    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
      if (!request.decoderResult().isSuccess()) {
        reply(ctx, request, "other", 400, "text/plain", "bad request\n");
        return;
      }
      QueryStringDecoder uri = new QueryStringDecoder(request.uri());
      String path;
      try {
        path = uri.path();
        uri.parameters(); // decoded once here (and cached) so bad escapes are a 400, not a 500 or a silent close
      } catch (IllegalArgumentException e) {
        replyError(ctx, request, "other", 400, "malformed URI: " + e.getMessage());
        return;
      }
      HttpMethod method = request.method();
      Map<HttpMethod, ApiHandler> byMethod = routes.get(path);
      if (byMethod != null) {
        api(ctx, request, path, uri, byMethod);
        return;
      }
      if (!method.equals(HttpMethod.GET)) {
        if (known(path)) {
          replyError(ctx, request, path, 405, "method " + method + " not allowed on " + path + " (allowed: GET)");
        } else {
          replyError(ctx, request, path, 404, "no such path: " + path);
        }
        return;
      }
      switch (path) {
        case "/metrics" -> reply(ctx, request, path, 200, "text/plain; version=0.0.4; charset=utf-8", metrics.get());
        case "/healthz" -> {
          boolean ok = healthy.get();
          reply(ctx, request, path, ok ? 200 : 503, "text/plain", ok ? "ok\n" : "not ready (starting or draining)\n");
        }
        default -> {
          Supplier<String> view = jsonViews.get(path);
          if (view == null) {
            replyError(ctx, request, path, 404, "no such path: " + path);
          } else {
            reply(ctx, request, path, 200, JSON, view.get());
          }
        }
      }
    }

    private void api(ChannelHandlerContext ctx, FullHttpRequest request, String path, QueryStringDecoder uri,
        Map<HttpMethod, ApiHandler> byMethod) {
      HttpMethod method = request.method();
      ApiHandler handler = byMethod.get(method);
      if (handler == null) {
        TreeSet<String> allowed = new TreeSet<>();
        byMethod.keySet().forEach(m -> allowed.add(m.name()));
        replyError(ctx, request, path, 405, "method " + method + " not allowed on " + path + " (allowed: "
            + String.join(", ", allowed) + ")");
        return;
      }
      if (!method.equals(HttpMethod.GET)) {
        int refusal = authorize(request);
        if (refusal == 403) {
          replyError(ctx, request, path, 403,
              "changes are disabled: no admin token is configured (set node.admin-token or node.admin-token-file)");
          return;
        }
        if (refusal == 401) {
          replyError(ctx, request, path, 401, "missing or wrong 'Authorization: Bearer <admin-token>'");
          return;
        }
      }
      ApiResponse response;
      try {
        response = handler.handle(new ApiRequest(method, path, uri.parameters(),
            request.content().toString(StandardCharsets.UTF_8)));
      } catch (ApiException e) {
        replyError(ctx, request, path, e.status(), e.getMessage());
        return;
      } catch (RuntimeException e) {
        log.warn("admin {} {} failed", method, path, e);
        replyError(ctx, request, path, 500, "internal error: " + e);
        return;
      }
      reply(ctx, request, path, response.status(), JSON, response.json());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      log.debug("admin connection closed: {}", cause.toString());
      ctx.close();
    }
  }

  private void replyError(ChannelHandlerContext ctx, FullHttpRequest request, String path, int status, String message) {
    reply(ctx, request, path, status, JSON, "{\"error\":" + quote(message) + "}\n");
  }

  /** A JSON string literal (the messages here are ours, but paths come from the client). */
  static String quote(String text) {
    StringBuilder b = new StringBuilder(text.length() + 2).append('"');
    for (char c : text.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  private void reply(ChannelHandlerContext ctx, FullHttpRequest request, String path, int status,
      String contentType, String body) {
    count(path, status);
    ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(status), content);
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, contentType);
    if (status == 401) {
      response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer");
    }
    HttpUtil.setContentLength(response, content.readableBytes());
    boolean keepAlive = HttpUtil.isKeepAlive(request) && status < 400;
    if (keepAlive) {
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      ctx.writeAndFlush(response);
    } else {
      // Say so, or a pooling client may send its next request on a connection we are closing.
      response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
    }
  }
}
