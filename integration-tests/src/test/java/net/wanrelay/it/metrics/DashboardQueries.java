package net.wanrelay.it.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The PromQL expressions of a Grafana dashboard and the relay metric names they use. */
public final class DashboardQueries {
  /**
   * Metric names of the relay's registry: our own plus Micrometer's JVM and process binders. Label
   * names and values never start with these prefixes followed by a name character run and a
   * selector, so a plain word match over the expression is enough.
   */
  private static final Pattern METRIC = Pattern.compile("(?<![A-Za-z0-9_:\"$])((?:wanrelay|jvm|process)_[A-Za-z0-9_:]+)");

  private DashboardQueries() {}

  /** Every {@code expr} of every panel target, rows' nested panels included. */
  public static List<String> expressions(Path dashboardJson) {
    try {
      JsonNode root = new ObjectMapper().readTree(dashboardJson.toFile());
      List<String> exprs = new ArrayList<>();
      collect(root.path("panels"), exprs);
      return exprs;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read dashboard " + dashboardJson, e);
    }
  }

  private static void collect(JsonNode panels, List<String> exprs) {
    for (JsonNode panel : panels) {
      for (JsonNode target : panel.path("targets")) {
        String expr = target.path("expr").asText("");
        if (!expr.isBlank()) {
          exprs.add(expr);
        }
      }
      collect(panel.path("panels"), exprs);
    }
  }

  public static Set<String> metricNames(List<String> expressions) {
    Set<String> names = new TreeSet<>();
    for (String expr : expressions) {
      Matcher m = METRIC.matcher(expr);
      while (m.find()) {
        names.add(m.group(1));
      }
    }
    return names;
  }
}
