package io.unimatte.cluster;

import java.util.function.Consumer;

/** What a clustered process knows about its cluster: its own node id and who leaves. */
public interface ClusterMembership {

  /** This process's node id (the id Vert.x uses for it on the event bus). */
  String localNodeId();

  /**
   * Calls {@code listener} with the node id of every member that leaves or is declared dead.
   * The call comes on a cluster-manager thread: hop to a Vert.x context before touching state.
   */
  void onMemberLeft(Consumer<String> listener);
}
