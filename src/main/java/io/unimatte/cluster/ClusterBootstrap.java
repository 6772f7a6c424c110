package io.unimatte.cluster;

import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;

import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Starts Vert.x for a role: a plain instance for {@code all} (Hazelcast is never touched), a
 * clustered one on Hazelcast for {@code front} and {@code worker}.
 */
public final class ClusterBootstrap {
  private static final Logger LOG = Logger.getLogger(ClusterBootstrap.class.getName());

  private ClusterBootstrap() {
  }

  /** A started Vert.x and, when clustered, its membership (null for role {@code all}). */
  public record Node(Vertx vertx, ClusterMembership membership) {
  }

  /** Starts Vert.x as {@code settings} asks. */
  public static Future<Node> start(ClusterSettings settings, VertxOptions options) {
    if (!settings.clustered()) {
      return Future.succeededFuture(new Node(Vertx.vertx(options), null));
    }
    // Hazelcast's INFO lines are multi-line banners; our own cluster events are logged instead
    Logger.getLogger("com.hazelcast").setLevel(Level.WARNING);
    HazelcastClusterManager manager = new HazelcastClusterManager(HazelcastConfigFactory.create(settings));
    EventBusOptions bus = options.getEventBusOptions();
    String busHost = !settings.eventBusHost().isEmpty() ? settings.eventBusHost() : settings.host();
    if (!busHost.isEmpty()) {
      bus.setHost(busHost);
    }
    bus.setPort(settings.eventBusPort());
    if (!settings.eventBusPublicHost().isEmpty()) {
      bus.setClusterPublicHost(settings.eventBusPublicHost());
    }
    if (settings.eventBusPublicPort() > 0) {
      bus.setClusterPublicPort(settings.eventBusPublicPort());
    }
    return Vertx.builder().with(options).withClusterManager(manager).buildClustered().map(vertx -> {
      ClusterMembership membership = new HazelcastMembership(manager);
      LOG.info("event=cluster_joined role=" + settings.role().name().toLowerCase(java.util.Locale.ROOT)
          + " cluster=" + settings.name() + " node=" + membership.localNodeId()
          + " members=" + manager.getNodes().size());
      return new Node(vertx, membership);
    });
  }

  /** Membership from Hazelcast. */
  private record HazelcastMembership(HazelcastClusterManager manager) implements ClusterMembership {
    /** Member attribute where vertx-hazelcast keeps the Vert.x node id (not the member's UUID). */
    private static final String NODE_ID_ATTRIBUTE = "__vertx.nodeId";

    @Override
    public String localNodeId() {
      return manager.getNodeId();
    }

    @Override
    public void onMemberLeft(Consumer<String> listener) {
      manager.getHazelcastInstance().getCluster().addMembershipListener(new MembershipListener() {
        @Override
        public void memberAdded(MembershipEvent e) {
          LOG.info("event=cluster_member_added node=" + e.getMember().getAttribute(NODE_ID_ATTRIBUTE)
              + " address=" + e.getMember().getAddress());
        }

        @Override
        public void memberRemoved(MembershipEvent e) {
          String node = e.getMember().getAttribute(NODE_ID_ATTRIBUTE);
          LOG.info("event=cluster_member_left node=" + node + " address=" + e.getMember().getAddress());
          if (node != null) {
            listener.accept(node);
          }
        }
      });
    }
  }
}
