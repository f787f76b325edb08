package net.wanrelay.core.tcp;

import io.netty.channel.Channel;
import java.net.InetSocketAddress;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.metrics.RelayMetrics.Outcome;
import net.wanrelay.core.metrics.RelayMetrics.Route;

/**
 * One client TCP conversation and its accounting. Confined to the client channel's event loop
 * (the server leg is registered on the same loop), so its fields need no synchronisation.
 */
public final class TcpSession {
  private final Channel client;
  private final Route route;
  private final RelayMetrics metrics;
  private final SessionLimiter limiter;
  private final InetSocketAddress target;
  private boolean ended;
  private boolean clientInputDone;
  private boolean serverInputDone;
  long bytesClientToServer;
  long bytesServerToClient;
  private final long openedNanos = System.nanoTime();
  private volatile long connectNanos = -1;
  private volatile String peer;
  private volatile String failure;
  private volatile Outcome outcome;

  public TcpSession(Channel client, Route route, InetSocketAddress target, RelayMetrics metrics, SessionLimiter limiter) {
    this.client = client;
    this.route = route;
    this.target = target;
    this.metrics = metrics;
    this.limiter = limiter;
    metrics.sessionOpened(Protocol.TCP, route);
  }

  public Channel client() {
    return client;
  }

  public InetSocketAddress target() {
    return target;
  }

  public Route route() {
    return route;
  }

  /** Payload bytes copied so far client-to-server (written on the event loop; a view may read it). */
  public long bytesClientToServer() {
    return bytesClientToServer;
  }

  public long bytesServerToClient() {
    return bytesServerToClient;
  }

  /** Called when the server leg is ready: fixes the connect latency. */
  public void markConnected() {
    if (connectNanos < 0) {
      connectNanos = System.nanoTime() - openedNanos;
    }
  }

  /** The trunk peer the session went over (null for other routes or before the choice). */
  public String peer() {
    return peer;
  }

  public void peer(String name) {
    peer = name;
  }

  /** Why the far leg could not be set up (e.g. refused, race_timeout), or null. */
  public String failure() {
    return failure;
  }

  public void failure(String reason) {
    failure = reason;
  }

  /** How the session ended, or null while open. */
  public Outcome outcome() {
    return outcome;
  }

  /** Nanoseconds from accept to a ready server leg, or -1 while not connected. */
  public long connectNanos() {
    return connectNanos;
  }

  /** Records that one side finished sending; returns true once both have (the session is done). */
  boolean inputDone(boolean fromClient) {
    if (fromClient) {
      clientInputDone = true;
    } else {
      serverInputDone = true;
    }
    return clientInputDone && serverInputDone;
  }

  /** Ends the session once: the first outcome wins, later calls are ignored. */
  public void end(Outcome outcome) {
    if (ended) {
      return;
    }
    ended = true;
    this.outcome = outcome;
    limiter.release();
    metrics.sessionClosed(Protocol.TCP, route, outcome);
  }

  public boolean ended() {
    return ended;
  }
}
