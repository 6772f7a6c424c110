package io.unimatte.cluster;

import io.unimatte.inference.InferenceReply;
import io.unimatte.inference.InferenceRequest;
import io.unimatte.inference.InferenceVerticle;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.LocalMap;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * A front's way to the workers. The matting pipeline sends each image here (locally, by
 * reference); the router forwards it on the clustered inference address, where Vert.x picks a
 * worker round-robin, and answers the pipeline exactly once.
 *
 * <p>Vert.x does not fail a request whose receiver died, so the router keeps track itself:
 * workers acknowledge each request under a per-attempt id ({@link InferenceVerticle#CLAIMS_ADDRESS}).
 * When the cluster reports a member gone, that member's requests are sent again; a request no
 * worker acknowledged within {@code claimTimeoutMs} (it went to a node that was already dead) is
 * sent again too. After {@code maxRetries} new attempts the image fails with the retryable
 * {@code worker_lost}. Whichever attempt answers first wins; later answers are dropped, so an
 * image never gets two results.
 *
 * <p>It also keeps the workers' status announcements in the local map {@link #WORKERS_MAP}, for
 * {@code /health} and {@code /metrics}.
 */
public final class InferenceRouter extends VerticleBase {
  /** Local address the pipeline sends {@link InferenceRequest}s to on a front. */
  public static final String ADDRESS = "unimatte.inference.route";
  /** Local map: {@code node/model} → that worker's latest status of that model (with {@code node} and {@code seenAt}). */
  public static final String WORKERS_MAP = "unimatte.workers";
  /** Announcements missed before a worker is dropped from the map. */
  private static final int MISSED_ANNOUNCEMENTS = 3;
  /** Error code of a worker that stops and fails what it still had queued. */
  private static final String SHUTTING_DOWN = "shutting_down";
  private static final Logger LOG = Logger.getLogger(InferenceRouter.class.getName());

  private final ClusterSettings settings;
  private final ClusterMembership membership;
  /** Attempt id → its image; one image can have several attempt ids over time. */
  private final Map<String, Pending> attempts = new HashMap<>();
  private LocalMap<String, JsonObject> workers;
  private final DeliveryOptions delivery;

  /** One image the pipeline waits for. */
  private static final class Pending {
    final Message<InferenceRequest> origin;
    String attemptId;
    String node;
    int retries;
    boolean answered;

    Pending(Message<InferenceRequest> origin) {
      this.origin = origin;
    }
  }

  /**
   * @param replyTimeoutMs last-resort bound on one attempt (the worker's queue timeout plus a margin)
   */
  public InferenceRouter(ClusterSettings settings, ClusterMembership membership, long replyTimeoutMs) {
    this.settings = settings;
    this.membership = membership;
    this.delivery = new DeliveryOptions().setSendTimeout(replyTimeoutMs);
  }

  @Override
  public Future<?> start() {
    InferenceVerticle.registerCodecs(vertx.eventBus());
    workers = vertx.sharedData().getLocalMap(WORKERS_MAP);
    var bus = vertx.eventBus();
    bus.<InferenceRequest>localConsumer(ADDRESS, this::onRequest);
    bus.<JsonObject>consumer(InferenceVerticle.CLAIMS_ADDRESS, m -> onClaim(m.body()));
    bus.<JsonObject>consumer(InferenceVerticle.WORKERS_ADDRESS, m -> onAnnouncement(m.body()));
    var context = vertx.getOrCreateContext();
    membership.onMemberLeft(node -> context.runOnContext(v -> onMemberLeft(node)));
    long every = settings.statusIntervalMs();
    vertx.setPeriodic(every, every, t -> dropSilentWorkers(System.currentTimeMillis() - MISSED_ANNOUNCEMENTS * every));
    return Future.succeededFuture();
  }

  private void onRequest(Message<InferenceRequest> msg) {
    send(new Pending(msg));
  }

  private void send(Pending p) {
    InferenceRequest in = p.origin.body();
    String attemptId = UUID.randomUUID().toString();
    p.attemptId = attemptId;
    p.node = null;
    attempts.put(attemptId, p);
    // a fresh request object per attempt: an earlier attempt may still be encoding the old one
    InferenceRequest out = new InferenceRequest(attemptId, in.ref(), in.model(), in.input());
    vertx.setTimer(settings.claimTimeoutMs(), t -> {
      if (!p.answered && attemptId.equals(p.attemptId) && p.node == null) {
        retry(p, "unclaimed");
      }
    });
    vertx.eventBus().<InferenceReply>request(InferenceVerticle.address(in.model()), out, delivery).onComplete(ar -> {
      attempts.remove(attemptId);
      if (p.answered) {
        return; // another attempt answered first
      }
      if (ar.succeeded() && SHUTTING_DOWN.equals(ar.result().body().errorCode()) && p.retries < settings.maxRetries()) {
        retry(p, "worker_stopping"); // that worker is leaving gracefully: another one can take the image
      } else if (ar.succeeded()) {
        answer(p, ar.result().body());
      } else if (!attemptId.equals(p.attemptId)) {
        return; // an abandoned attempt failing late: the current one is still running
      } else if (ar.cause() instanceof ReplyException re && re.failureType() == ReplyFailure.NO_HANDLERS) {
        answer(p, p.retries == 0
            ? InferenceReply.failure("model_not_ready", "no inference worker is available", 1)
            : lost(p));
      } else {
        retry(p, ar.cause() instanceof ReplyException re ? re.failureType().name().toLowerCase() : "send_failed");
      }
    });
  }

  private void retry(Pending p, String reason) {
    attempts.remove(p.attemptId);
    if (p.retries >= settings.maxRetries()) {
      LOG.warning("event=inference_lost item=" + p.origin.body().ref() + " node=" + p.node + " reason=" + reason
          + " retries=" + p.retries);
      answer(p, lost(p));
      return;
    }
    p.retries++;
    LOG.info("event=inference_retry item=" + p.origin.body().ref() + " node=" + p.node + " reason=" + reason
        + " retry=" + p.retries);
    send(p);
  }

  private InferenceReply lost(Pending p) {
    return InferenceReply.failure("worker_lost", "the inference worker holding this image was lost; send it again",
        settings.workerLostRetryAfterSeconds());
  }

  private void answer(Pending p, InferenceReply reply) {
    p.answered = true;
    attempts.remove(p.attemptId);
    p.origin.reply(reply);
  }

  private void onClaim(JsonObject claim) {
    Pending p = attempts.get(claim.getString("id"));
    if (p != null && claim.getString("id").equals(p.attemptId)) {
      p.node = claim.getString("node");
    }
  }

  private void onAnnouncement(JsonObject status) {
    String node = status.getString("node");
    if (node != null) {
      workers.put(node + "/" + status.getString("model"), status.put("seenAt", System.currentTimeMillis()));
    }
  }

  private void onMemberLeft(String node) {
    if (workers.keySet().removeIf(key -> key.startsWith(node + "/"))) {
      LOG.warning("event=worker_lost node=" + node);
    }
    Map<Pending, String> orphans = new HashMap<>();
    for (Pending p : attempts.values()) {
      if (node.equals(p.node) && !p.answered) {
        orphans.put(p, p.attemptId);
      }
    }
    if (!orphans.isEmpty()) {
      // right after a member leaves, round-robin may still pick its stale registration
      vertx.setTimer(settings.resendDelayMs(), t -> orphans.forEach((p, attemptId) -> {
        if (!p.answered && attemptId.equals(p.attemptId)) {
          retry(p, "member_left");
        }
      }));
    }
  }

  private void dropSilentWorkers(long seenBefore) {
    for (String key : new ArrayList<>(workers.keySet())) {
      JsonObject s = workers.get(key);
      if (s != null && s.getLong("seenAt", 0L) < seenBefore) {
        workers.remove(key);
        LOG.warning("event=worker_silent node=" + s.getString("node") + " model=" + s.getString("model"));
      }
    }
  }
}
