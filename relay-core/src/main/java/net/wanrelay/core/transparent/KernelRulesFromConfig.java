package net.wanrelay.core.transparent;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import net.wanrelay.core.config.RelayConfig;
import net.wanrelay.core.config.RelayConfig.DiscoveryConfig;
import net.wanrelay.core.config.RelayConfig.InterceptConfig;
import net.wanrelay.discovery.kernel.KernelRuleParams;
import net.wanrelay.discovery.kernel.KernelRuleParams.Role;
import net.wanrelay.discovery.option.OptionFormat;
import net.wanrelay.discovery.rules.Cidr;
import net.wanrelay.discovery.rules.PeeringRule;
import net.wanrelay.discovery.rules.PortSet;

/**
 * The roles a config gives the relay and the kernel rules they need. CP: the intercept section
 * lists TCP or UDP ports. SP: a trunk listener next to the intercept section. Both at once is allowed.
 */
public final class KernelRulesFromConfig {
  /** Queue numbers and marks: the discovery module's defaults (docs/DISCOVERY.md). */
  static final int PROBE_QUEUE = 7;
  static final int RESPONSE_QUEUE = 8;
  static final int SYN_ACK_QUEUE = 9;
  static final int PROBE_MARK = 0x77;
  static final int LISTENER_MARK = 0x78;
  static final int DISCOVERY_PORT = 7801;

  private KernelRulesFromConfig() {}

  /** CP and/or SP; throws when the intercept section gives the relay nothing to do. */
  public static Set<Role> roles(RelayConfig config) {
    InterceptConfig i = intercept(config);
    Set<Role> roles = EnumSet.noneOf(Role.class);
    if (!i.tcpPorts().isEmpty() || !i.udpPorts().isEmpty()) {
      roles.add(Role.CP);
    }
    if (config.trunk().flatMap(RelayConfig.TrunkConfig::listen).isPresent()) {
      roles.add(Role.SP);
    }
    if (roles.isEmpty()) {
      throw new IllegalArgumentException("intercept: neither client-side (intercept.tcp-ports, udp-ports) nor server-side"
          + " (trunk.listen) role is configured");
    }
    return roles;
  }

  public static OptionFormat format(DiscoveryConfig d) {
    return d.exid().map(e -> new OptionFormat(d.optionKind(), e)).orElseGet(() -> OptionFormat.withoutExid(d.optionKind()));
  }

  public static KernelRuleParams params(RelayConfig config) {
    InterceptConfig i = intercept(config);
    Set<Role> roles = EnumSet.copyOf(roles(config));
    if (roles.contains(Role.SP) && config.discovery().probeOnward()) {
      roles.add(Role.CP); // the onward probe's SYN and SYN-ACK queues (no intercept without tcp-ports)
    }
    return KernelRuleParams.of(roles.toArray(new Role[0]))
        .interceptTcpPorts(i.tcpPorts())
        .interceptUdpPorts(i.udpPorts())
        .interceptTproxyPort(i.tproxyListen().port())
        .discoveryPort(DISCOVERY_PORT)
        .probeMark(PROBE_MARK)
        .listenerMark(LISTENER_MARK)
        .queues(PROBE_QUEUE, RESPONSE_QUEUE, SYN_ACK_QUEUE)
        .format(format(config.discovery()))
        .peeringPassThroughSources(passThroughSources(i.peeringRules()));
  }

  /**
   * Sources whose probes the kernel must not hand to the discovery listener: once TPROXY'd, a
   * connection ends at the SP, so withholding the response alone would break it. The kernel
   * matches by source only, so a pass-through rule narrowed by destination or port excludes that
   * source for every destination (see {@link #narrowedPassThroughRules}).
   */
  static List<Cidr> passThroughSources(List<PeeringRule> rules) {
    List<Cidr> out = new ArrayList<>();
    for (PeeringRule r : rules) {
      if (r.action() == PeeringRule.Action.PASS_THROUGH && !out.contains(r.source())) {
        out.add(r.source());
      }
    }
    return out;
  }

  /** Pass-through rules the kernel can only apply more broadly (by source alone). */
  static List<PeeringRule> narrowedPassThroughRules(List<PeeringRule> rules) {
    return rules.stream().filter(r -> r.action() == PeeringRule.Action.PASS_THROUGH
        && (!r.destination().equals(Cidr.ANY_V4) || !r.ports().equals(PortSet.ANY))).toList();
  }

  private static InterceptConfig intercept(RelayConfig config) {
    return config.intercept().orElseThrow(() -> new IllegalArgumentException(
        "the config has no intercept: section (explicit mode needs no kernel rules)"));
  }
}
