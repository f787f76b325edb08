package net.wanrelay.channel;

/**
 * Decides what happens to a stream the peer opened. Called on the connection's event loop; it
 * must eventually call {@link TrunkStream#accept(StreamListener)} or
 * {@link TrunkStream#reject}. Data the peer sends before that (0-RTT) is held by the stream,
 * bounded by the initial window.
 */
@FunctionalInterface
public interface StreamAcceptor {
  void onOpen(TrunkStream stream);
}
