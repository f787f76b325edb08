package net.wanrelay.core.config;

import java.net.InetSocketAddress;
import java.util.regex.Pattern;

/** A host (IP literal or DNS name) and a port, as written in the config ("10.0.0.1:80", "[::1]:80"). */
public record HostPort(String host, int port) {
  private static final Pattern HOSTNAME =
      Pattern.compile("(?=.{1,253}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");
  private static final Pattern DOTTED_NUMBERS = Pattern.compile("[0-9.]+");

  /** Parses "host:port"; the message of the exception says what is wrong, without location. */
  public static HostPort parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("expected host:port, got an empty value");
    }
    String host;
    String portText;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0 || close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        throw new IllegalArgumentException("expected [ipv6]:port, got '" + text + "'");
      }
      host = text.substring(1, close);
      portText = text.substring(close + 2);
      if (!host.contains(":")) {
        throw new IllegalArgumentException("'" + host + "' in brackets is not an IPv6 address");
      }
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0 || text.indexOf(':') != colon) {
        throw new IllegalArgumentException("expected host:port, got '" + text + "'");
      }
      host = text.substring(0, colon);
      portText = text.substring(colon + 1);
      validateHost(host);
    }
    int port;
    try {
      port = Integer.parseInt(portText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("port '" + portText + "' is not a number");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port " + port + " out of range (1-65535)");
    }
    return new HostPort(host, port);
  }

  private static void validateHost(String host) {
    if (host.isEmpty()) {
      throw new IllegalArgumentException("missing host before ':'");
    }
    if (DOTTED_NUMBERS.matcher(host).matches()) {
      String[] parts = host.split("\\.", -1);
      if (parts.length != 4) {
        throw new IllegalArgumentException("'" + host + "' is not a valid IPv4 address");
      }
      for (String part : parts) {
        if (part.isEmpty() || part.length() > 3 || Integer.parseInt(part) > 255) {
          throw new IllegalArgumentException("'" + host + "' is not a valid IPv4 address");
        }
      }
      return;
    }
    if (!HOSTNAME.matcher(host).matches()) {
      throw new IllegalArgumentException("'" + host + "' is not a valid host name or address");
    }
  }

  /** A socket address resolved now. */
  public InetSocketAddress resolve() {
    return new InetSocketAddress(host, port);
  }

  @Override
  public String toString() {
    return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
  }
}
