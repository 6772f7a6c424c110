package io.unimatte.jobs.impl;

import io.unimatte.imaging.output.OutputOptions;
import io.vertx.core.json.JsonObject;

/**
 * A job's output options as stored in its record, so a job resumed after a restart renders its
 * remaining images exactly like the first ones. Every component of {@link OutputOptions} is
 * written; reading uses the canonical constructor, so a new component fails the build here.
 */
public final class StoredOptions {
  private StoredOptions() {
  }

  /** The options as JSON (nulls left out: they mean "the server's default"). */
  public static JsonObject toJson(OutputOptions o) {
    JsonObject j = new JsonObject().put("matteOnly", o.matteOnly()).put("format", o.format())
        .put("crop", o.crop()).put("cropMargin", o.cropMargin()).put("cropMarginPercent", o.cropMarginPercent())
        .put("maxPixels", o.maxPixels()).put("maxWidth", o.maxWidth()).put("maxHeight", o.maxHeight())
        .put("jpegQuality", o.jpegQuality());
    if (o.background() != null) {
      j.put("background", o.background());
    }
    if (o.refine() != null) {
      j.put("refine", o.refine());
    }
    if (o.colour() != null) {
      j.put("colour", o.colour());
    }
    return j;
  }

  /** The options written by {@link #toJson}; null when {@code j} is null (a record from before they were stored). */
  public static OutputOptions fromJson(JsonObject j) {
    if (j == null) {
      return null;
    }
    return new OutputOptions(j.getBoolean("matteOnly"), j.getString("format"), j.getInteger("background"),
        j.getBoolean("crop"), j.getInteger("cropMargin"), j.getBoolean("cropMarginPercent"), j.getLong("maxPixels"),
        j.getInteger("maxWidth"), j.getInteger("maxHeight"), j.getInteger("jpegQuality"), j.getBoolean("refine"),
        j.getBoolean("colour"));
  }
}
