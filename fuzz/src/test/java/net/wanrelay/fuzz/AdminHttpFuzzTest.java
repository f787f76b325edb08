package net.wanrelay.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.DictionaryFile;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandler;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.io.ByteArrayOutputStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.wanrelay.core.admin.AdminServer;

/**
 * The admin HTTP endpoint's request handling on fuzzed requests: mostly well-formed HTTP/1.1 with
 * fuzzed method, path, query, headers (Authorization, Content-Length, Connection, Transfer-Encoding)
 * and body, sometimes raw bytes, delivered in fuzzed chunks. The pipeline is the server's own (same
 * codec limits, its route handler built by reflection, since AdminServer exposes no pipeline hook):
 * nothing escapes, nothing is logged as an unexpected failure, every response is valid HTTP with a
 * status the API documents (never 500), JSON bodies parse, and the channel either answered or
 * closed or is still waiting for the rest of a request.
 */
class AdminHttpFuzzTest {
  private static final String TOKEN = "fuzz-admin-token-0123456789";
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<Integer> STATUSES = Set.of(200, 400, 401, 403, 404, 405, 413, 417, 431, 503);
  private static final AdminServer SERVER = server();
  private static final Constructor<?> ROUTES;
  private static final int MAX_REQUEST_BYTES;

  static {
    FuzzLog.install();
    try {
      // The HTTP encoder keeps a few constant direct buffers (CRLF etc.) made once in its static
      // init: make them before any input, or the first response would look like a leak to the ledger.
      Class.forName("io.netty.handler.codec.http.HttpObjectEncoder", true, AdminHttpFuzzTest.class.getClassLoader());
      ROUTES = Class.forName(AdminServer.class.getName() + "$Routes").getDeclaredConstructor(AdminServer.class);
      ROUTES.setAccessible(true);
      Field max = AdminServer.class.getDeclaredField("MAX_REQUEST_BYTES");
      max.setAccessible(true);
      MAX_REQUEST_BYTES = max.getInt(null);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private static AdminServer server() {
    AdminServer s = new AdminServer(new InetSocketAddress("127.0.0.1", 0), () -> "wanrelay_up 1\n", () -> true);
    s.addJsonView("/status", () -> "{\"ok\":true}");
    s.addRoute(HttpMethod.GET, "/api/echo", req -> {
      try {
        return AdminServer.ApiResponse.ok(JSON.writeValueAsString(java.util.Map.of("q", req.requiredParam("q"))));
      } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    });
    s.addRoute(HttpMethod.POST, "/api/echo", req -> new AdminServer.ApiResponse(200, "{\"len\":" + req.body().length() + "}"));
    s.adminToken(Optional.of(TOKEN));
    return s;
  }

  @FuzzTest
  @DictionaryFile(resourcePath = "AdminHttpFuzzTest.dict")
  void answersOrCloses(FuzzedDataProvider data) throws Exception {
    BufferLedger.Mark ledger = BufferLedger.mark();
    long chunkSeed = data.consumeLong();
    byte[] wire = data.consumeBoolean() ? data.consumeRemainingAsBytes() : request(data);
    EmbeddedChannel ch = new EmbeddedChannel(new HttpServerCodec(4096, 8192, 8192),
        new HttpObjectAggregator(MAX_REQUEST_BYTES), (ChannelHandler) ROUTES.newInstance(SERVER));
    EmbeddedChannel client = new EmbeddedChannel(new HttpClientCodec(), new HttpObjectAggregator(1 << 20));
    List<ByteBuf> inputs = new ArrayList<>();
    List<Integer> statuses = new ArrayList<>();
    try {
      java.util.SplittableRandom r = new java.util.SplittableRandom(chunkSeed);
      int offset = 0;
      while (offset < wire.length && ch.isOpen()) {
        int n = Math.min(wire.length - offset, 1 + r.nextInt(512));
        ByteBuf chunk = Unpooled.copiedBuffer(wire, offset, n);
        inputs.add(chunk);
        offset += n;
        ch.writeInbound(chunk);
        ch.runPendingTasks();
        readResponses(ch, client, statuses);
      }
    } finally {
      ch.finishAndReleaseAll();
      try {
        client.finishAndReleaseAll();
      } catch (io.netty.handler.codec.PrematureChannelClosureException expected) {
        // The test client's own aggregator: after an interim "100 Continue" (the server's answer
        // to Expect: 100-continue) it waits for a final response that a request cut short by the
        // server's close never gets. Not a server fault; what the server did write was checked.
      }
    }
    assertThat(FuzzLog.take()).as("unexpected exceptions logged").isEmpty();
    // 100 Continue is the interim answer (from the aggregator) to a request that asked for it; it
    // must not come otherwise, and every other status must be one the API documents.
    if (statuses.contains(100)) {
      assertThat(new String(wire, StandardCharsets.ISO_8859_1).toLowerCase(java.util.Locale.ROOT))
          .as("100 Continue without Expect: 100-continue").contains("100-continue");
    }
    assertThat(statuses).filteredOn(s -> s != 100).allMatch(STATUSES::contains, "documented statuses only");
    for (ByteBuf b : inputs) {
      assertThat(b.refCnt()).as("request bytes still referenced").isZero();
    }
    ledger.assertBalanced("the requests and close");
  }

  /** Moves the server's output through a client codec; every response must be well-formed. */
  private static void readResponses(EmbeddedChannel server, EmbeddedChannel client, List<Integer> statuses)
      throws Exception {
    Object o;
    while ((o = server.readOutbound()) != null) {
      client.writeInbound(o);
    }
    Object m;
    while ((m = client.readInbound()) != null) {
      FullHttpResponse resp = (FullHttpResponse) m;
      try {
        assertThat(resp.decoderResult().isSuccess()).as("server wrote unparseable HTTP").isTrue();
        statuses.add(resp.status().code());
        String type = resp.headers().get(HttpHeaderNames.CONTENT_TYPE, "");
        String body = resp.content().toString(StandardCharsets.UTF_8);
        if (type.startsWith("application/json") && resp.status().code() != 200) {
          assertThat(JSON.readTree(body).get("error")).as("error body is JSON with 'error'").isNotNull();
        }
      } finally {
        resp.release();
      }
    }
  }

  private static byte[] request(FuzzedDataProvider data) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int count = data.consumeInt(1, 3);
    for (int i = 0; i < count; i++) {
      String method = data.pickValue(new String[] {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "G\u00e9T"});
      String path = data.pickValue(new String[] {"/metrics", "/healthz", "/status", "/api/echo", "/", ""})
          + data.consumeString(40);
      String version = data.pickValue(new String[] {"HTTP/1.1", "HTTP/1.0", "HTTP/2.0", "HTTP/1.1x"});
      StringBuilder head = new StringBuilder(method + " " + path + " " + version + "\r\nHost: relay\r\n");
      byte[] body = data.consumeBytes(data.consumeInt(0, 200));
      if (data.consumeBoolean()) {
        head.append("Authorization: Bearer ").append(data.consumeBoolean() ? TOKEN : data.consumeString(30)).append("\r\n");
      }
      switch (data.consumeInt(0, 4)) {
        case 0 -> head.append("Content-Length: ").append(body.length).append("\r\n");
        case 1 -> head.append("Content-Length: ").append(data.consumeString(12)).append("\r\n");
        case 2 -> head.append("Transfer-Encoding: chunked\r\n");
        default -> { }
      }
      if (data.consumeBoolean()) {
        head.append(data.consumeString(60)).append("\r\n");
      }
      head.append("\r\n");
      out.writeBytes(head.toString().getBytes(StandardCharsets.ISO_8859_1));
      out.writeBytes(body);
    }
    return out.toByteArray();
  }
}
