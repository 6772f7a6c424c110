package io.unimatte.jobs;

import io.unimatte.imaging.output.OutputOptions;

import java.util.List;

/**
 * A new batch job as it arrives from an API: the images and what to make of them. Travels over
 * the local event bus by reference (the bytes are not copied).
 *
 * @param images    the uploaded files, in order
 * @param options   output options (cutout or matte, format, background, crop, size)
 * @param withMatte also store the grey matte of each image (for archives)
 * @param source    which way in created it ({@code http}, {@code websocket})
 * @param client    who asked (API key or address), for the per-client limit on running jobs
 * @param model     the model to use (never null: the API resolves the default)
 */
public record JobSubmission(List<NamedImage> images, OutputOptions options, boolean withMatte,
                            String source, String client, String model) {

  /** One uploaded file. */
  public record NamedImage(String name, byte[] data) {
  }
}
