package io.unimatte.api;

import io.netty.util.NetUtil;
import io.unimatte.config.AppConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

/** Whether the configured bind address exposes an open server to the network. */
public final class BindCheck {
  private BindCheck() {
  }

  /**
   * The warning to log when {@code server.host} is reachable from other machines while no API key
   * is configured (anyone on the network may use the server), or empty.
   */
  public static Optional<String> insecureBindWarning(JsonObject config) {
    String host = AppConfig.requireString(config.getJsonObject("server"), "host").trim();
    JsonObject security = config.getJsonObject("security");
    boolean keys = java.util.stream.Stream.of("apiKeys", "adminKeys")
        .flatMap(list -> security.getJsonArray(list, new JsonArray()).stream())
        .anyMatch(k -> k != null && !String.valueOf(k).isBlank());
    if (keys || isLoopback(host)) {
      return Optional.empty();
    }
    return Optional.of("event=insecure_bind host=" + host + " port=" + config.getJsonObject("server").getValue("port")
        + " apiKeys=0 message=\"listening beyond this machine without API keys: anyone who can reach it may use"
        + " the server; set security.apiKeys, or server.host=127.0.0.1\"");
  }

  private static boolean isLoopback(String host) {
    if (host.equalsIgnoreCase("localhost")) {
      return true;
    }
    // literals only, no DNS: a host name other than localhost counts as reachable
    byte[] literal = NetUtil.createByteArrayFromIpAddressString(host);
    try {
      return literal != null && InetAddress.getByAddress(literal).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false;
    }
  }
}
