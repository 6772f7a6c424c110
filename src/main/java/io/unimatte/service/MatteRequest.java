package io.unimatte.service;

import io.unimatte.imaging.output.OutputOptions;

/**
 * One image to cut out.
 *
 * @param jobId  job the image belongs to (a single upload is a job of one)
 * @param index  position of the image in its job
 * @param data   the uploaded file's bytes
 * @param options what to return (cutout or matte, format, background, crop, size)
 * @param withMatte also encode the grey matte ({@link MatteResult#matteBytes()})
 * @param model  the model to use; null for the default model
 */
public record MatteRequest(String jobId, int index, byte[] data, OutputOptions options, boolean withMatte,
                           String model) {

  /** A request for the default model. */
  public MatteRequest(String jobId, int index, byte[] data, OutputOptions options, boolean withMatte) {
    this(jobId, index, data, options, withMatte, null);
  }

  /** A full-size PNG cutout or matte, without the extra grey matte. */
  public MatteRequest(String jobId, int index, byte[] data, OutputKind output) {
    this(jobId, index, data, of(output), false);
  }

  /** Default options for a cutout or a matte. */
  public static OutputOptions of(OutputKind output) {
    OutputOptions d = OutputOptions.DEFAULT;
    return output == OutputKind.ALPHA ? new OutputOptions(true, d.format(), null, false, 0, false, 0, 0, 0,
        d.jpegQuality()) : d;
  }

  /** Cutout or matte. */
  public OutputKind output() {
    return options.matteOnly() ? OutputKind.ALPHA : OutputKind.RGBA;
  }

  /** What the caller wants back. */
  public enum OutputKind {
    /** The original RGB with the matte as alpha: a transparent cutout. */
    RGBA,
    /** The matte alone, as an 8-bit grey image. */
    ALPHA
  }
}
