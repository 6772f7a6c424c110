package io.unimatte.inference;

import io.unimatte.modelimport.ModelDescriptor;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.unimatte.config.AppConfig;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Logger;

/**
 * The models {@code config.json} asks to serve ({@code models.serve}), with their descriptors.
 *
 * <p>The default model is served even when the list does not name it. An entry is either a name (the model is described by {@code <models.dir>/<name>/model.json}) or
 * an object with the same fields as a {@code model.json}, whose relative {@code path} is resolved
 * against {@code models.dir}. A model whose description is missing or invalid is recorded as a
 * failure with one clear line; the others are still served. Reading is blocking file I/O.
 */
public final class ModelCatalog {
  private static final Logger LOG = Logger.getLogger(ModelCatalog.class.getName());
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Map<String, ModelDescriptor> models;
  private final Map<String, String> failures;
  private final String defaultModel;
  private final String personModel;

  private ModelCatalog(Map<String, ModelDescriptor> models, Map<String, String> failures, String defaultModel,
                       String personModel) {
    this.models = Collections.unmodifiableMap(models);
    this.failures = Collections.unmodifiableMap(failures);
    this.defaultModel = defaultModel;
    this.personModel = personModel;
  }

  /** Reads the {@code models} section of {@code config.json} and every descriptor it names. */
  public static ModelCatalog fromConfig(JsonObject section) {
    Path dir = Path.of(AppConfig.requireString(section, "dir"));
    String def = AppConfig.requireString(section, "default");
    JsonArray serve = section.getJsonArray("serve", new JsonArray()).copy();
    boolean listsDefault = serve.stream().anyMatch(e -> def.equals(e)
        || e instanceof JsonObject o && def.equals(o.getString("name")));
    if (!listsDefault) {
      serve.add(0, def); // the default model is always served, even when the list forgets it
    }
    Map<String, ModelDescriptor> models = new LinkedHashMap<>();
    Map<String, String> failures = new LinkedHashMap<>();
    for (int i = 0; i < serve.size(); i++) {
      Object entry = serve.getValue(i);
      String label = entry instanceof JsonObject o ? o.getString("name", "#" + i) : String.valueOf(entry);
      try {
        ModelDescriptor d;
        if (entry instanceof JsonObject o) {
          JsonNode json = MAPPER.readTree(o.encode());
          d = ModelDescriptor.parse(json, label, dir, dir);
        } else if (entry instanceof String name) {
          d = ModelDescriptor.read(dir.resolve(name));
          if (!d.name().equals(name)) {
            throw new IOException("model '" + name + "': its model.json names it '" + d.name() + "'");
          }
        } else {
          throw new IOException("models.serve[" + i + "] must be a model name or an object");
        }
        if (models.containsKey(d.name())) {
          throw new IOException("model '" + d.name() + "' is listed twice in models.serve");
        }
        models.put(d.name(), d);
      } catch (IOException e) {
        String msg = e.getMessage().startsWith("model '") ? e.getMessage() : "model '" + label + "': " + e.getMessage();
        failures.put(label, msg);
        LOG.severe("event=model_failed model=" + label + " error=\"" + msg.replace('"', '\'') + "\"");
      }
    }
    return new ModelCatalog(models, failures, def, section.getString("personModel"));
  }

  /** A catalog of given descriptors (tests, tools). */
  public static ModelCatalog of(List<ModelDescriptor> descriptors, String defaultModel) {
    Map<String, ModelDescriptor> m = new LinkedHashMap<>();
    descriptors.forEach(d -> m.put(d.name(), d));
    return new ModelCatalog(m, new LinkedHashMap<>(), defaultModel, null);
  }

  /** The models that were described correctly, in configuration order. */
  public Map<String, ModelDescriptor> models() {
    return models;
  }

  /** Models that could not be described: name → the problem, in one line. */
  public Map<String, String> failures() {
    return failures;
  }

  /** The model used when a request names none. */
  public String defaultModel() {
    return defaultModel;
  }

  /** The model used for {@code type=person} (remove.bg API), when configured and described. */
  public Optional<String> personModel() {
    return personModel != null && models.containsKey(personModel) ? Optional.of(personModel) : Optional.empty();
  }

  /** The descriptor of {@code name}, if it is served. */
  public Optional<ModelDescriptor> get(String name) {
    return Optional.ofNullable(models.get(name));
  }
}
