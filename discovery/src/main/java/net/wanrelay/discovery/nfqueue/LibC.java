package net.wanrelay.discovery.nfqueue;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;

/** The few libc socket calls the netlink binding needs (64-bit Linux: size_t/ssize_t as long). */
interface LibC extends Library {
  LibC INSTANCE = Native.load("c", LibC.class);

  int AF_NETLINK = 16;
  int SOCK_RAW = 3;
  int SOCK_CLOEXEC = 0x80000;
  int NETLINK_NETFILTER = 12;
  int SOL_SOCKET = 1;
  int SO_RCVBUF = 8;
  int SO_RCVTIMEO = 20;
  int SO_RCVBUFFORCE = 33;
  int EINTR = 4;
  int EAGAIN = 11;
  int ENOBUFS = 105;

  int socket(int domain, int type, int protocol) throws LastErrorException;

  int bind(int fd, byte[] addr, int addrLen) throws LastErrorException;

  long send(int fd, byte[] buf, long len, int flags) throws LastErrorException;

  long recv(int fd, byte[] buf, long len, int flags) throws LastErrorException;

  int setsockopt(int fd, int level, int name, byte[] value, int len) throws LastErrorException;

  int close(int fd) throws LastErrorException;
}
