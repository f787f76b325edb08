package net.wanrelay.channel;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.Frame;
import net.wanrelay.channel.frame.FrameType;
import net.wanrelay.channel.frame.Frames;
import net.wanrelay.channel.frame.Hello;
import net.wanrelay.channel.frame.ProtocolViolation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mutual pre-shared-key authentication, before anything else is accepted on a trunk connection.
 *
 * <pre>
 *   initiator                     acceptor
 *   HELLO(nonce_i)        --->
 *                         <---    HELLO(nonce_a), AUTH(proof_a)
 *   AUTH(proof_i)         --->
 *   proof_x = HMAC-SHA256(key, "wanrelay/1 " + role_x, nonce_i, nonce_a, node_i, 0, node_a, version)
 * </pre>
 *
 * The role label differs per side, so a proof reflected back never verifies; fresh nonces on
 * both sides stop replays; the key never crosses the wire. On success the handler replaces
 * itself with the connection handler made by {@link Installer}; on failure it sends GOAWAY with
 * the reason, closes, logs and counts ({@code wanrelay_trunk_auth_failures_total{reason}}, or
 * {@code wanrelay_trunk_protocol_errors_total{reason}} for malformed input).
 */
public final class PskHandshakeHandler extends ChannelInboundHandlerAdapter {
  public static final int VERSION = 1;
  private static final Logger LOG = LoggerFactory.getLogger(PskHandshakeHandler.class);
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Builds the connection handler once the peer is authenticated. */
  @FunctionalInterface
  public interface Installer {
    /**
     * Returns the handler that replaces the handshake handler, or null to refuse the
     * (authenticated) peer.
     */
    TrunkConnection install(ChannelHandlerContext ctx, Hello local, Hello remote);
  }

  private enum State { AWAIT_HELLO, AWAIT_AUTH, DONE, FAILED }

  private final boolean initiator;
  private final String nodeId;
  private final byte[] key;
  private final TrunkSettings settings;
  private final int capabilities;
  private final TrunkMetrics metrics;
  private final Installer installer;
  private final long incarnation;
  private final long resumeToken;
  private final byte[] nonce = new byte[Hello.NONCE_LENGTH];
  private State state = State.AWAIT_HELLO;
  private Hello local;
  private Hello remote;
  private boolean helloSent;
  private ScheduledFuture<?> timeout;

  public PskHandshakeHandler(boolean initiator, String nodeId, byte[] key, TrunkSettings settings,
      int capabilities, TrunkMetrics metrics, Installer installer) {
    this(initiator, nodeId, key, settings, capabilities, metrics, installer, 0, 0);
  }

  /** With the resume identity sent in HELLO (this node's incarnation, the initiator's connection token). */
  public PskHandshakeHandler(boolean initiator, String nodeId, byte[] key, TrunkSettings settings,
      int capabilities, TrunkMetrics metrics, Installer installer, long incarnation, long resumeToken) {
    this.incarnation = incarnation;
    this.resumeToken = resumeToken;
    if (key == null || key.length == 0) {
      throw new IllegalArgumentException("a pre-shared key is required");
    }
    this.initiator = initiator;
    this.nodeId = nodeId;
    this.key = key.clone();
    this.settings = settings;
    this.capabilities = capabilities;
    this.metrics = metrics;
    this.installer = installer;
    RANDOM.nextBytes(nonce);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    local = new Hello(VERSION, VERSION, initiator ? Hello.ROLE_INITIATOR : Hello.ROLE_ACCEPTOR, nonce,
        capabilities, settings.initialWindow, settings.maxStreams, nodeId, incarnation, resumeToken);
    timeout = ctx.executor().schedule(() -> fail(ctx, "timeout", ErrorCode.AUTH_FAILED,
        "no authentication within " + settings.handshakeTimeout.toMillis() + " ms", true),
        settings.handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS);
    if (initiator && ctx.channel().isActive()) {
      sendHello(ctx);
    }
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    if (initiator) {
      sendHello(ctx);
    }
    ctx.fireChannelActive();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    if (timeout != null) {
      timeout.cancel(false);
    }
  }

  private void sendHello(ChannelHandlerContext ctx) {
    if (!helloSent) {
      helloSent = true;
      ctx.writeAndFlush(new Frame(FrameType.HELLO, 0, 0, local.encode(ctx.alloc())));
    }
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (!(msg instanceof Frame f)) {
      ctx.fireChannelRead(msg);
      return;
    }
    try {
      if (state == State.FAILED) {
        return;
      }
      if (state == State.DONE) { // raced the pipeline swap; should not happen
        ctx.fireChannelRead(f.retain());
        return;
      }
      switch (f.type()) {
        case HELLO -> onHello(ctx, f);
        case AUTH -> onAuth(ctx, f);
        case GOAWAY -> {
          String text = f.content().readableBytes() > 4
              ? Frames.reasonText(f.content().slice(f.content().readerIndex() + 4, f.content().readableBytes() - 4)) : "";
          fail(ctx, "peer_rejected", ErrorCode.AUTH_FAILED, "peer refused the handshake: " + text, false);
        }
        default -> throw new ProtocolViolation("frame_before_auth", f.type() + " before authentication");
      }
    } finally {
      f.release();
    }
  }

  private void onHello(ChannelHandlerContext ctx, Frame f) {
    if (state != State.AWAIT_HELLO) {
      throw new ProtocolViolation("unexpected_handshake", "second HELLO");
    }
    Hello h = Hello.decode(f.content());
    int expectedRole = initiator ? Hello.ROLE_ACCEPTOR : Hello.ROLE_INITIATOR;
    if (h.role() != expectedRole) {
      throw new ProtocolViolation("bad_hello", "peer claims role " + h.role());
    }
    if (h.minVersion() > VERSION || h.maxVersion() < VERSION) {
      fail(ctx, "version", ErrorCode.VERSION, "no common version: peer speaks " + h.minVersion() + ".."
          + h.maxVersion() + ", we speak " + VERSION, true);
      return;
    }
    remote = h;
    state = State.AWAIT_AUTH;
    if (!initiator) {
      ctx.write(new Frame(FrameType.HELLO, 0, 0, local.encode(ctx.alloc())));
      ctx.writeAndFlush(new Frame(FrameType.AUTH, 0, 0, ctx.alloc().buffer(32).writeBytes(proof(false))));
    }
  }

  private void onAuth(ChannelHandlerContext ctx, Frame f) {
    if (state != State.AWAIT_AUTH) {
      throw new ProtocolViolation("frame_before_hello", "AUTH before HELLO");
    }
    byte[] got = new byte[32];
    if (f.content().readableBytes() != 32) {
      throw new ProtocolViolation("bad_auth", "AUTH payload " + f.content().readableBytes() + " bytes");
    }
    f.content().getBytes(f.content().readerIndex(), got);
    // The peer's proof carries the peer's role label.
    if (!MessageDigest.isEqual(got, proof(!initiator))) {
      fail(ctx, "bad_proof", ErrorCode.AUTH_FAILED, "peer " + remote.nodeId() + " does not know the key", true);
      return;
    }
    if (initiator) {
      ctx.writeAndFlush(new Frame(FrameType.AUTH, 0, 0, ctx.alloc().buffer(32).writeBytes(proof(true))));
    }
    state = State.DONE;
    TrunkConnection conn = installer.install(ctx, local, remote);
    if (conn == null) {
      fail(ctx, "peer_not_allowed", ErrorCode.DENIED, "node " + remote.nodeId() + " is not allowed here", true);
      return;
    }
    LOG.info("trunk: authenticated {} peer {} at {}", initiator ? "outbound" : "inbound", remote.nodeId(),
        ctx.channel().remoteAddress());
    ctx.pipeline().replace(this, "trunk", conn);
  }

  /** HMAC over both nonces, both node ids and the role of the prover. */
  private byte[] proof(boolean byInitiator) {
    Hello i = initiator ? local : remote;
    Hello a = initiator ? remote : local;
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(("wanrelay/1 " + (byInitiator ? "initiator" : "acceptor")).getBytes(StandardCharsets.US_ASCII));
      mac.update(i.nonce());
      mac.update(a.nonce());
      mac.update(i.nodeId().getBytes(StandardCharsets.UTF_8));
      mac.update((byte) 0);
      mac.update(a.nodeId().getBytes(StandardCharsets.UTF_8));
      mac.update((byte) VERSION);
      return mac.doFinal();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (state == State.AWAIT_HELLO || state == State.AWAIT_AUTH) {
      state = State.FAILED;
      metrics.authFailure("closed");
      LOG.info("trunk: {} closed during the handshake", ctx.channel().remoteAddress());
    }
    ctx.fireChannelInactive();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    Throwable c = cause.getCause() instanceof ProtocolViolation ? cause.getCause() : cause;
    if (c instanceof ProtocolViolation v) {
      if (state == State.FAILED) {
        return;
      }
      state = State.FAILED;
      metrics.protocolError(v.reason());
      LOG.warn("trunk: {} protocol error during the handshake, closing: {}", ctx.channel().remoteAddress(),
          v.getMessage());
      sendGoAwayAndClose(ctx, v.code(), v.reason());
    } else if (tlsFailure(cause) != null) {
      if (state != State.FAILED && state != State.DONE) {
        state = State.FAILED;
        metrics.authFailure("tls");
        LOG.warn("trunk: TLS handshake with {} failed: {}", ctx.channel().remoteAddress(), tlsFailure(cause).getMessage());
      }
      ctx.close();
    } else if (c instanceof IOException) {
      ctx.close();
    } else {
      LOG.warn("trunk: handshake error with {}", ctx.channel().remoteAddress(), c);
      ctx.close();
    }
  }

  private static javax.net.ssl.SSLException tlsFailure(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (c instanceof javax.net.ssl.SSLException e) {
        return e;
      }
    }
    return null;
  }

  private void fail(ChannelHandlerContext ctx, String reason, ErrorCode code, String detail, boolean tellPeer) {
    if (state == State.FAILED || state == State.DONE && !"peer_not_allowed".equals(reason)) {
      return;
    }
    state = State.FAILED;
    metrics.authFailure(reason);
    LOG.warn("trunk: authentication with {} failed ({}): {}", ctx.channel().remoteAddress(), reason, detail);
    if (tellPeer) {
      sendGoAwayAndClose(ctx, code, reason);
    } else {
      ctx.close();
    }
  }

  private static void sendGoAwayAndClose(ChannelHandlerContext ctx, ErrorCode code, String reason) {
    if (ctx.channel().isActive()) {
      ctx.writeAndFlush(Frames.goAway(ctx.alloc(), 0, code, reason)).addListener(ChannelFutureListener.CLOSE);
    } else {
      ctx.close();
    }
  }
}
