package io.unimatte.cluster;

import io.unimatte.config.AppConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The {@code cluster} section of the configuration: which role this process plays and how it
 * finds the other members. With role {@code all} (the default) nothing else here is used and no
 * cluster is joined.
 *
 * @param role                        what this process runs
 * @param name                        cluster name; members with another name never join
 * @param members                     TCP-IP member list ({@code host} or {@code host:port})
 * @param host                        interface the cluster manager binds to ("" = pick one)
 * @param port                        cluster manager port
 * @param publicHost                  address other members should use ("" = {@code host})
 * @param eventBusHost                interface of the event-bus server ("" = same as the cluster manager)
 * @param eventBusPort                event-bus port (0 = random free port)
 * @param eventBusPublicHost          event-bus address announced to others ("" = the bound one)
 * @param eventBusPublicPort          event-bus port announced to others (0 = the bound one)
 * @param multicast                   multicast discovery instead of the member list
 * @param failureDetectionSeconds     a member silent this long is removed
 * @param claimTimeoutMs              a request no worker acknowledged in this time is sent again
 * @param maxRetries                  how often one image is sent again after its worker was lost
 * @param resendDelayMs               pause before resending a lost worker's images, so the event bus
 *                                    has dropped that worker's registration and picks a live one
 * @param workerLostRetryAfterSeconds Retry-After of the {@code worker_lost} error
 * @param statusIntervalMs            how often workers announce their status to the fronts
 */
public record ClusterSettings(Role role, String name, List<String> members, String host, int port, String publicHost,
                              String eventBusHost, int eventBusPort, String eventBusPublicHost, int eventBusPublicPort,
                              boolean multicast, int failureDetectionSeconds, long claimTimeoutMs, int maxRetries, long resendDelayMs,
                              long workerLostRetryAfterSeconds, long statusIntervalMs) {

  /** What one process runs. */
  public enum Role {
    /** Everything in one process, no cluster (the default). */
    ALL,
    /** HTTP, WebSocket, cache and jobs; inference goes to the workers. */
    FRONT,
    /** Inference only, fed by the fronts over the clustered event bus. */
    WORKER;

    /** Parses {@code all}, {@code front} or {@code worker}. */
    public static Role parse(String s) {
      try {
        return valueOf(s.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("cluster.role must be 'all', 'front' or 'worker', got '" + s + "'");
      }
    }
  }

  /** Reads the section; a missing section means a single machine. */
  public static ClusterSettings from(JsonObject c) {
    if (c == null || c.isEmpty()) {
      return new ClusterSettings(Role.ALL, "unimatte", List.of(), "", 0, "", "", 0, "", 0, false, 0, 0, 0, 0, 0, 0);
    }
    Role role = Role.parse(AppConfig.requireString(c, "role"));
    List<String> members = new ArrayList<>();
    JsonArray list = c.getJsonArray("members", new JsonArray());
    for (Object o : list) {
      String m = String.valueOf(o).trim();
      if (!m.isEmpty()) {
        members.add(m);
      }
    }
    ClusterSettings s = new ClusterSettings(role, AppConfig.requireString(c, "name"), List.copyOf(members),
        AppConfig.requireString(c, "host"), AppConfig.requireInt(c, "port"), AppConfig.requireString(c, "publicHost"),
        AppConfig.requireString(c, "eventBusHost"), AppConfig.requireInt(c, "eventBusPort"),
        AppConfig.requireString(c, "eventBusPublicHost"), AppConfig.requireInt(c, "eventBusPublicPort"),
        c.getBoolean("multicast", false), AppConfig.requireInt(c, "failureDetectionSeconds"),
        AppConfig.requireLong(c, "claimTimeoutMs"), AppConfig.requireInt(c, "maxRetries"),
        AppConfig.requireLong(c, "resendDelayMs"),
        AppConfig.requireLong(c, "workerLostRetryAfterSeconds"), AppConfig.requireLong(c, "statusIntervalMs"));
    if (role != Role.ALL && !s.multicast && s.members.isEmpty()) {
      throw new IllegalArgumentException("cluster.members is empty: list the hosts of the cluster"
          + " (e.g. --cluster.members='[\"10.0.0.1\",\"10.0.0.2\"]') or set cluster.multicast=true");
    }
    return s;
  }

  /** True when this process joins a cluster. */
  public boolean clustered() {
    return role != Role.ALL;
  }
}
