package io.unimatte.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;

/**
 * Builds the Hazelcast configuration from {@link ClusterSettings} in code, so a deployment needs
 * no {@code hazelcast.xml}: a fixed TCP-IP member list, multicast and cloud auto-detection off
 * unless asked for, no outbound "phone home", and JDK logging so lines reach our log format.
 */
public final class HazelcastConfigFactory {
  /** Structures Vert.x keeps in Hazelcast (same settings as vertx-hazelcast's default-cluster.xml). */
  private static final String SUBS = "__vertx.subs";
  private static final String HA_INFO = "__vertx.haInfo";
  private static final String NODE_INFO = "__vertx.nodeInfo";
  /** Hazelcast's own rule of thumb: several heartbeats fit in the failure-detection window. */
  private static final int HEARTBEATS_PER_WINDOW = 5;

  private HazelcastConfigFactory() {
  }

  /** The member configuration for {@code s}. */
  public static Config create(ClusterSettings s) {
    Config config = new Config();
    config.setClusterName(s.name());
    config.setProperty("hazelcast.logging.type", "jdk");
    config.setProperty("hazelcast.phone.home.enabled", "false");
    // Main's shutdown hook closes Vert.x, which leaves the cluster in order; Hazelcast's own hook
    // would pull the cluster away from under the event bus first
    config.setProperty("hazelcast.shutdownhook.enabled", "false");
    config.setProperty("hazelcast.max.no.heartbeat.seconds", Integer.toString(s.failureDetectionSeconds()));
    config.setProperty("hazelcast.heartbeat.interval.seconds",
        Integer.toString(Math.max(1, s.failureDetectionSeconds() / HEARTBEATS_PER_WINDOW)));

    config.addMultiMapConfig(new MultiMapConfig(SUBS).setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    config.addMapConfig(new MapConfig(HA_INFO).setBackupCount(1));
    config.addMapConfig(new MapConfig(NODE_INFO).setBackupCount(1));

    NetworkConfig network = config.getNetworkConfig();
    network.setPort(s.port());
    // a fixed port when the members name ports explicitly; otherwise try the next ones too
    network.setPortAutoIncrement(s.members().stream().noneMatch(m -> m.contains(":")));
    if (!s.host().isEmpty()) {
      network.getInterfaces().setEnabled(true).addInterface(s.host());
      config.setProperty("hazelcast.local.localAddress", s.host());
    }
    if (!s.publicHost().isEmpty()) {
      network.setPublicAddress(s.publicHost().contains(":") ? s.publicHost() : s.publicHost() + ":" + s.port());
    }
    JoinConfig join = network.getJoin();
    join.getAutoDetectionConfig().setEnabled(false);
    join.getMulticastConfig().setEnabled(s.multicast());
    join.getTcpIpConfig().setEnabled(!s.multicast()).setMembers(s.members());
    return config;
  }
}
