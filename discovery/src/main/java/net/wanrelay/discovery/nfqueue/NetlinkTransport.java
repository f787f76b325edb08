package net.wanrelay.discovery.nfqueue;

import java.io.IOException;

/** The datagram I/O a queue worker needs; {@link NetlinkSocket} in production, a fake in tests. */
public interface NetlinkTransport extends AutoCloseable {
  void send(byte[] message) throws IOException;

  /** Length received, 0 on timeout, negative when the kernel reports lost messages. */
  int receive(byte[] buf) throws IOException;

  @Override
  void close();
}
