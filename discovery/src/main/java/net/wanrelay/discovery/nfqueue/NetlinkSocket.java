package net.wanrelay.discovery.nfqueue;

import com.sun.jna.LastErrorException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A NETLINK_NETFILTER socket through JNA. It belongs to the network namespace of the process that
 * opened it. Receives time out (so a worker can notice it was closed).
 */
public final class NetlinkSocket implements NetlinkTransport {
  private final int fd;
  private volatile boolean closed;

  private NetlinkSocket(int fd) {
    this.fd = fd;
  }

  /** Opens and binds a netfilter netlink socket; the kernel picks the port id. */
  public static NetlinkSocket open(int receiveTimeoutMillis, int receiveBuffer) throws IOException {
    LibC c;
    try {
      c = LibC.INSTANCE;
    } catch (Throwable t) {
      throw new IOException("JNA/libc unavailable: " + t.getMessage(), t);
    }
    int fd;
    try {
      fd = c.socket(LibC.AF_NETLINK, LibC.SOCK_RAW | LibC.SOCK_CLOEXEC, LibC.NETLINK_NETFILTER);
    } catch (LastErrorException e) {
      throw new IOException("socket(AF_NETLINK, NETLINK_NETFILTER) failed: errno " + e.getErrorCode(), e);
    }
    NetlinkSocket s = new NetlinkSocket(fd);
    try {
      ByteBuffer addr = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder());
      addr.putShort((short) LibC.AF_NETLINK); // nl_family, pad, nl_pid 0, nl_groups 0
      c.bind(fd, addr.array(), 12);
      ByteBuffer tv = ByteBuffer.allocate(16).order(ByteOrder.nativeOrder());
      tv.putLong(receiveTimeoutMillis / 1000).putLong((receiveTimeoutMillis % 1000) * 1000L);
      c.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVTIMEO, tv.array(), 16);
      byte[] size = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(receiveBuffer).array();
      try {
        c.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUFFORCE, size, 4);
      } catch (LastErrorException e) {
        c.setsockopt(fd, LibC.SOL_SOCKET, LibC.SO_RCVBUF, size, 4); // without CAP_NET_ADMIN
      }
    } catch (LastErrorException e) {
      s.close();
      throw new IOException("netlink socket setup failed: errno " + e.getErrorCode(), e);
    }
    return s;
  }

  @Override
  public void send(byte[] message) throws IOException {
    if (closed) {
      throw new IOException("netlink socket closed");
    }
    try {
      long n = LibC.INSTANCE.send(fd, message, message.length, 0);
      if (n != message.length) {
        throw new IOException("short netlink send: " + n + " of " + message.length);
      }
    } catch (LastErrorException e) {
      throw new IOException("netlink send failed: errno " + e.getErrorCode(), e);
    }
  }

  /**
   * Receives one datagram into {@code buf}. Returns its length, 0 when the wait timed out or was
   * interrupted, or -ENOBUFS when the kernel dropped messages because the buffer overflowed.
   */
  @Override
  public int receive(byte[] buf) throws IOException {
    if (closed) {
      throw new IOException("netlink socket closed");
    }
    try {
      return (int) LibC.INSTANCE.recv(fd, buf, buf.length, 0);
    } catch (LastErrorException e) {
      int errno = e.getErrorCode();
      if (errno == LibC.EAGAIN || errno == LibC.EINTR) {
        return 0;
      }
      if (errno == LibC.ENOBUFS) {
        return -LibC.ENOBUFS;
      }
      throw new IOException("netlink recv failed: errno " + errno, e);
    }
  }

  public boolean isClosed() {
    return closed;
  }

  @Override
  public synchronized void close() {
    if (!closed) {
      closed = true;
      try {
        LibC.INSTANCE.close(fd);
      } catch (LastErrorException ignored) {
        // nothing left to do with a descriptor that will not close
      }
    }
  }
}
