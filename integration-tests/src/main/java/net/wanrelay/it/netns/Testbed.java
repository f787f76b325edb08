package net.wanrelay.it.netns;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** Tells whether this machine can build a namespace test bed, and if not, why. */
public final class Testbed {
  private static volatile Optional<String> cached;

  private Testbed() {}

  /** Empty when network namespaces, veth pairs and TUN devices can be made here; else the reason. */
  public static Optional<String> unavailableReason() {
    Optional<String> r = cached;
    if (r == null) {
      r = probe();
      cached = r;
    }
    return r;
  }

  private static Optional<String> probe() {
    if (!System.getProperty("os.name", "").toLowerCase().contains("linux")) {
      return Optional.of("network namespaces need Linux (this is " + System.getProperty("os.name") + ")");
    }
    ExecResult id = Commands.run(List.of("id", "-u"));
    if (!id.ok() || !id.stdout().strip().equals("0")) {
      return Optional.of("the namespace test bed needs root (id -u says " + id.stdout().strip() + ")");
    }
    ExecResult ip = Commands.run(List.of("ip", "-V"));
    if (!ip.ok()) {
      return Optional.of("iproute2's `ip` is not usable: " + ip.stderr().strip());
    }
    if (!Files.exists(Path.of("/dev/net/tun"))) {
      return Optional.of("/dev/net/tun is missing (the WAN emulator needs TUN devices)");
    }
    String probeNs = "wrt-probe-" + ProcessHandle.current().pid();
    ExecResult add = Commands.run(List.of("ip", "netns", "add", probeNs));
    if (!add.ok()) {
      return Optional.of("cannot create a network namespace: " + add.stderr().strip());
    }
    try {
      ExecResult veth = Commands.run(List.of("ip", "-n", probeNs, "link", "add", "p0", "type", "veth", "peer", "name", "p1"));
      if (!veth.ok()) {
        return Optional.of("cannot create veth pairs: " + veth.stderr().strip());
      }
      ExecResult tun = Commands.run(List.of("ip", "-n", probeNs, "tuntap", "add", "dev", "t0", "mode", "tun"));
      if (!tun.ok()) {
        return Optional.of("cannot create TUN devices: " + tun.stderr().strip());
      }
      return Optional.empty();
    } finally {
      Commands.run(List.of("ip", "netns", "del", probeNs));
    }
  }
}
