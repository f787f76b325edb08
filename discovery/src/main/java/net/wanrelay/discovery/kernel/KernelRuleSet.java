package net.wanrelay.discovery.kernel;

import java.util.List;
import java.util.Map;

/**
 * The kernel configuration for a set of parameters, as text and argument lists.
 *
 * @param nftTable our table's name (family ip)
 * @param nftScript input for {@code nft -f -}: atomically replaces our table
 * @param iptablesMangleRules arguments after {@code iptables -t mangle -A}, one list per rule
 * @param ipCommands arguments after {@code ip}: policy routing to local sockets
 * @param sysctls settings that must hold (not reverted on removal)
 * @param comment the iptables comment marking our rules
 */
public record KernelRuleSet(String nftTable, String nftScript, List<List<String>> iptablesMangleRules,
    List<List<String>> ipCommands, Map<String, String> sysctls, String comment) {

  /** A shell script that applies this rule set (what {@code print} shows; runs as root). */
  public String print() {
    StringBuilder b = new StringBuilder("#!/bin/sh\n# wanrelay kernel rules (apply as root)\nset -e\n");
    sysctls.forEach((k, v) -> b.append("sysctl -qw ").append(k).append('=').append(v).append('\n'));
    for (List<String> c : ipCommands) {
      b.append("ip ").append(String.join(" ", c)).append('\n');
    }
    b.append("nft -f - <<'EOF'\n").append(nftScript).append("EOF\n");
    for (List<String> r : iptablesMangleRules) {
      String spec = String.join(" ", r);
      b.append("iptables -t mangle -C ").append(spec).append(" 2>/dev/null || iptables -t mangle -A ")
          .append(spec).append('\n');
    }
    return b.toString();
  }
}
