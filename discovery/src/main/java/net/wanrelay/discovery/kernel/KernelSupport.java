package net.wanrelay.discovery.kernel;

import io.netty.channel.epoll.Epoll;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import net.wanrelay.discovery.nfqueue.NetlinkSocket;

/**
 * Which kernel assists this process can use, and why not, for the relay's start-up message.
 * Without them the relay still runs in explicit mode.
 */
public final class KernelSupport {
  private KernelSupport() {}

  public record Feature(boolean available, String detail) {}

  /** Feature name to availability; {@link #summary()} is one line per feature. */
  public record Report(Map<String, Feature> features) {
    public boolean available(String feature) {
      Feature f = features.get(feature);
      return f != null && f.available();
    }

    /** True when transparent interception and discovery can run. */
    public boolean discoveryAvailable() {
      return features.values().stream().allMatch(Feature::available);
    }

    public String summary() {
      StringBuilder b = new StringBuilder();
      features.forEach((k, f) -> b.append(f.available() ? "  [on]  " : "  [off] ").append(k).append(": ")
          .append(f.detail()).append('\n'));
      return b.toString();
    }
  }

  public static final String LINUX = "linux";
  public static final String EPOLL = "epoll";
  public static final String NET_ADMIN = "net_admin";
  public static final String NFT = "nft";
  public static final String IPTABLES = "iptables";
  public static final String NETLINK = "netlink_netfilter";

  /** Checks everything without changing the system (no rules added, no queue bound). */
  public static Report check() {
    return check(CommandRunner.local(), Path.of("/proc/self/status"));
  }

  static Report check(CommandRunner run, Path procStatus) {
    Map<String, Feature> f = new LinkedHashMap<>();
    boolean linux = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    f.put(LINUX, new Feature(linux, linux ? "Linux " + System.getProperty("os.version")
        : "not Linux (" + System.getProperty("os.name") + "): TPROXY, NFQUEUE and TCP_SAVED_SYN are Linux-only"));
    boolean epoll;
    String epollDetail;
    try {
      epoll = Epoll.isAvailable();
      epollDetail = epoll ? "native epoll transport loaded (IP_TRANSPARENT, SO_MARK, TCP_SAVED_SYN)"
          : "epoll unavailable: " + Epoll.unavailabilityCause();
    } catch (Throwable t) {
      epoll = false;
      epollDetail = "epoll unavailable: " + t;
    }
    f.put(EPOLL, new Feature(epoll, epollDetail));
    f.put(NET_ADMIN, netAdmin(procStatus));
    f.put(NFT, tool(run, List.of("nft", "--version"), "nft (nftables) for TPROXY rules"));
    f.put(IPTABLES, tool(run, List.of("iptables", "--version"), "iptables for NFQUEUE rules"));
    if (linux) {
      try {
        NetlinkSocket.open(100, 1 << 16).close();
        f.put(NETLINK, new Feature(true, "NETLINK_NETFILTER socket opens (JNA)"));
      } catch (IOException | RuntimeException | LinkageError e) {
        f.put(NETLINK, new Feature(false, "no NETLINK_NETFILTER socket: " + e.getMessage()));
      }
    } else {
      f.put(NETLINK, new Feature(false, "not Linux"));
    }
    return new Report(f);
  }

  /** CAP_NET_ADMIN (bit 12) in the effective capability set. */
  static Feature netAdmin(Path procStatus) {
    try {
      for (String line : Files.readAllLines(procStatus)) {
        if (line.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(line.substring(7).trim(), 16);
          boolean has = (caps & (1L << 12)) != 0;
          return new Feature(has, has ? "CAP_NET_ADMIN held"
              : "CAP_NET_ADMIN missing: run as root or grant it (setcap / docker --cap-add NET_ADMIN)");
        }
      }
      return new Feature(false, "no CapEff line in " + procStatus);
    } catch (IOException | NumberFormatException e) {
      return new Feature(false, "capabilities unreadable: " + e.getMessage());
    }
  }

  private static Feature tool(CommandRunner run, List<String> cmd, String what) {
    try {
      CommandRunner.Result r = run.run(cmd, null);
      return r.ok() ? new Feature(true, r.stdout().trim())
          : new Feature(false, what + ": '" + String.join(" ", cmd) + "' failed: " + r.stderr().trim());
    } catch (IOException e) {
      return new Feature(false, what + ": not installed (" + e.getMessage() + ")");
    }
  }
}
