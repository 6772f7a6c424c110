package io.unimatte.api;

import io.unimatte.error.CodedException;
import io.unimatte.error.ErrorCode;
import io.unimatte.inference.ModelCatalog;
import io.unimatte.modelimport.ModelDescriptor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.Map;

/** {@code GET /api/v1/models} and the {@code model=} parameter every way in accepts. */
final class ModelsApi {
  private ModelsApi() {
  }

  /**
   * The model a request asked for: its name when served (loaded or still loading), the default when
   * it names none; otherwise 400 {@code unknown_model} listing what is served.
   */
  static String resolve(String requested, ModelCatalog models) {
    if (requested == null || requested.isBlank()) {
      return models.defaultModel();
    }
    if (models.get(requested).isPresent() || models.failures().containsKey(requested)) {
      return requested;
    }
    throw new CodedException(ErrorCode.UNKNOWN_MODEL, "model '" + requested + "' is not served here; served: "
        + String.join(", ", models.models().keySet()));
  }

  /** Every configured model with what it is, its contract, licence and state. */
  static JsonObject list(ModelCatalog models, Map<String, JsonObject> statuses) {
    JsonArray list = new JsonArray();
    for (ModelDescriptor d : models.models().values()) {
      JsonObject status = statuses.get(d.name());
      JsonObject m = new JsonObject()
          .put("name", d.name())
          .put("purpose", d.purpose())
          .put("kind", d.kind().id())
          .put("contract", new JsonObject(d.contractJson().toString()))
          .put("inputSize", d.input().size() > 0 ? d.input().size() : null)
          .put("default", d.name().equals(models.defaultModel()))
          .put("person", models.personModel().map(d.name()::equals).orElse(false))
          .put("status", status == null ? "loading" : status.getString("status"))
          .put("device", status == null ? null : status.getString("device"))
          .put("precision", status == null ? null : status.getString("precision"))
          .put("precisionReason", status == null ? null : status.getString("precisionReason"))
          .put("source", d.source() == null ? null : new JsonObject(d.source().toString()))
          .put("license", d.license() == null ? null : new JsonObject(d.license().toString()));
      if (status != null && status.getString("error") != null) {
        m.put("error", status.getString("error"));
      }
      list.add(m);
    }
    models.failures().forEach((name, error) -> list.add(new JsonObject().put("name", name).put("status", "failed")
        .put("default", name.equals(models.defaultModel())).put("error", error)));
    return new JsonObject().put("default", models.defaultModel()).put("models", list);
  }

  /** Model name → its state, batching and sessions, for {@code /health}. */
  static JsonObject states(ModelCatalog models, Map<String, JsonObject> statuses) {
    JsonObject out = new JsonObject();
    for (ModelDescriptor d : models.models().values()) {
      JsonObject status = statuses.get(d.name());
      JsonObject s = new JsonObject()
          .put("status", status == null ? "loading" : status.getString("status"))
          .put("batched", d.batched())
          .put("sessions", d.sessions());
      if (!d.batched()) {
        s.put("note", "one image per call: items run one by one on " + d.sessions() + " session(s)");
      }
      if (status != null && status.getString("error") != null) {
        s.put("error", status.getString("error"));
      }
      out.put(d.name(), s);
    }
    models.failures().forEach((name, error) -> out.put(name, new JsonObject().put("status", "failed")
        .put("error", error)));
    return out;
  }
}
