package net.wanrelay.it.netns;

import com.sun.jna.LastErrorException;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

/**
 * The few libc calls the test bed needs (JNA direct mapping): opening TUN devices, entering a
 * network namespace from one thread, raw IP sockets. Every call throws {@link LastErrorException}
 * with errno on failure.
 */
public final class Libc {
  public static final int O_RDONLY = 0;
  public static final int O_RDWR = 2;
  public static final int O_CLOEXEC = 0x80000;
  public static final int CLONE_NEWNET = 0x40000000;
  public static final int AF_INET = 2;
  public static final int SOCK_RAW = 3;
  public static final int IPPROTO_TCP = 6;
  public static final int IPPROTO_RAW = 255;
  public static final int SOL_SOCKET = 1;
  public static final int SO_RCVTIMEO = 20;

  static {
    Native.register(Platform.C_LIBRARY_NAME);
  }

  private Libc() {}

  public static native int open(String path, int flags) throws LastErrorException;

  public static native int close(int fd) throws LastErrorException;

  public static native int ioctl(int fd, long request, byte[] arg) throws LastErrorException;

  public static native long read(int fd, Pointer buf, long count) throws LastErrorException;

  public static native long write(int fd, byte[] buf, long count) throws LastErrorException;

  public static native int setns(int fd, int nstype) throws LastErrorException;

  public static native int socket(int domain, int type, int protocol) throws LastErrorException;

  public static native int setsockopt(int fd, int level, int name, byte[] value, int len) throws LastErrorException;

  public static native long sendto(int fd, byte[] buf, long len, int flags, byte[] addr, int addrLen)
      throws LastErrorException;

  public static native long recv(int fd, byte[] buf, long len, int flags) throws LastErrorException;
}
