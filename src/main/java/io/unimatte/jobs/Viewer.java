package io.unimatte.jobs;

import io.vertx.core.json.JsonObject;

/**
 * Who asks about jobs: the owner they act as, and whether they may see every job (an admin key).
 * A job belongs to the identity that created it: the checked API key's id when keys are on,
 * {@link #SHARED} when they are off. Anyone else is told the job does not exist. With keys off
 * there is nobody to tell apart, so every client sees every job ({@link #open()}), as before
 * keys. Travels in the body of every message to {@link JobsVerticle} that names or lists jobs; a
 * message without one sees nothing.
 *
 * @param owner the identity asking (e.g. {@code key:1a2b…} or {@link #SHARED})
 * @param admin sees and acts on every job
 */
public record Viewer(String owner, boolean admin) {
  /** The one owner of every job while API keys are off: every client sees every job, as before keys. */
  public static final String SHARED = "shared";
  /** Prefix of the identity of a checked API key (see the API's access control). */
  public static final String KEY_PREFIX = "key:";
  private static final String OWNER = "owner";
  private static final String ADMIN = "admin";
  /** Sees nothing: what a message without a viewer gets, so a forgotten check fails closed. */
  static final Viewer NOBODY = new Viewer(null, false);

  /** The viewer of a server without API keys: owner {@link #SHARED}, sees every job. */
  public static Viewer open() {
    return new Viewer(SHARED, true);
  }

  /** The viewer that travels in {@code msg}, or {@link #NOBODY}. */
  static Viewer of(JsonObject msg) {
    String owner = msg == null ? null : msg.getString(OWNER);
    return owner == null ? NOBODY : new Viewer(owner, msg.getBoolean(ADMIN, false));
  }

  /** {@code msg} with this viewer in it (its {@code owner} and {@code admin} fields). */
  public JsonObject addTo(JsonObject msg) {
    return msg.put(OWNER, owner).put(ADMIN, admin);
  }

  /** Whether this viewer may see and act on {@code job}. */
  boolean maySee(JsonObject job) {
    return owner != null && (admin || owner.equals(ownerOf(job)));
  }

  /**
   * The owner a job record names. Records written before jobs had owners are read by their
   * {@code client}: a checked key's jobs stay that key's, every other job is {@link #SHARED}.
   */
  static String ownerOf(JsonObject job) {
    String owner = job.getString(OWNER);
    if (owner != null) {
      return owner;
    }
    String client = job.getString("client");
    return client != null && client.startsWith(KEY_PREFIX) ? client : SHARED;
  }
}
