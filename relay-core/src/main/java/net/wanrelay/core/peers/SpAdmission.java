package net.wanrelay.core.peers;

import net.wanrelay.channel.StreamAcceptor;
import net.wanrelay.channel.TrunkStream;
import net.wanrelay.channel.frame.ErrorCode;
import net.wanrelay.channel.frame.StreamProtocol;
import net.wanrelay.core.config.RelayConfig.Protocol;
import net.wanrelay.core.metrics.RelayMetrics;
import net.wanrelay.core.tcp.SessionLimiter;

/**
 * SP: TCP streams opened by peers count against the relay's session limit
 * ({@code limits.max-sessions}, shared with the listeners). At the limit a raced OPEN is left
 * unanswered (so a CP racing several SPs picks one with room), any other OPEN gets OPEN_FAIL busy.
 * UDP flows have their own cap and pass straight on.
 */
public final class SpAdmission implements StreamAcceptor {
  private final StreamAcceptor next;
  private final SessionLimiter limiter;
  private final RelayMetrics metrics;
  private final PeerMetrics peerMetrics;

  public SpAdmission(StreamAcceptor next, SessionLimiter limiter, RelayMetrics metrics, PeerMetrics peerMetrics) {
    this.next = next;
    this.limiter = limiter;
    this.metrics = metrics;
    this.peerMetrics = peerMetrics;
  }

  @Override
  public void onOpen(TrunkStream stream) {
    if (stream.protocol() != StreamProtocol.TCP) {
      next.onOpen(stream);
      return;
    }
    if (!limiter.tryAcquire()) {
      metrics.refused(Protocol.TCP, "max_sessions");
      if (stream.request().race()) {
        peerMetrics.raceSilent();
        stream.ignore();
      } else {
        stream.reject(ErrorCode.BUSY, "session limit reached");
      }
      return;
    }
    stream.whenClosed(limiter::release);
    next.onOpen(stream);
  }
}
