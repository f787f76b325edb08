package net.wanrelay.it.wan;

import com.sun.jna.Memory;
import java.nio.charset.StandardCharsets;
import net.wanrelay.it.netns.Libc;

/** A TUN device opened without packet info: each read returns one IP packet, each write injects one. */
final class Tun implements AutoCloseable {
  private static final long TUNSETIFF = 0x400454caL;
  private static final short IFF_TUN = 0x0001;
  private static final short IFF_NO_PI = 0x1000;

  private final String name;
  private final int fd;
  private final Memory readBuffer = new Memory(65536);

  /** Attaches to the TUN device {@code name} (created beforehand by {@code ip tuntap add}, or made now). */
  Tun(String name) {
    byte[] ifreq = new byte[40];
    byte[] n = name.getBytes(StandardCharsets.US_ASCII);
    if (n.length > 15) {
      throw new IllegalArgumentException("interface name too long: " + name);
    }
    System.arraycopy(n, 0, ifreq, 0, n.length);
    short flags = IFF_TUN | IFF_NO_PI;
    ifreq[16] = (byte) flags; // struct ifreq's ifr_flags, little-endian short
    ifreq[17] = (byte) (flags >> 8);
    int f = Libc.open("/dev/net/tun", Libc.O_RDWR | Libc.O_CLOEXEC);
    try {
      Libc.ioctl(f, TUNSETIFF, ifreq);
    } catch (RuntimeException e) {
      Libc.close(f);
      throw new IllegalStateException("TUNSETIFF " + name + ": " + e.getMessage(), e);
    }
    this.name = name;
    this.fd = f;
  }

  String name() {
    return name;
  }

  /** Blocks until the kernel routes a packet into the device; returns a copy of it. */
  byte[] read() {
    int n = (int) Libc.read(fd, readBuffer, readBuffer.size());
    return readBuffer.getByteArray(0, n);
  }

  void write(byte[] packet) {
    Libc.write(fd, packet, packet.length);
  }

  @Override
  public void close() {
    Libc.close(fd);
  }
}
