package io.unimatte.service;

/**
 * One image to cut out.
 *
 * @param jobId  job the image belongs to (a single upload is a job of one)
 * @param index  position of the image in its job
 * @param data   the uploaded file's bytes
 * @param output what to return
 * @param withMatte also encode the grey matte ({@link MatteResult#matteBytes()})
 */
public record MatteRequest(String jobId, int index, byte[] data, OutputKind output, boolean withMatte) {

  /** A request without the extra grey matte. */
  public MatteRequest(String jobId, int index, byte[] data, OutputKind output) {
    this(jobId, index, data, output, false);
  }

  /** What the caller wants back. */
  public enum OutputKind {
    /** The original RGB with the matte as alpha: a transparent cutout. */
    RGBA,
    /** The matte alone, as an 8-bit grey image. */
    ALPHA
  }
}
