package io.unimatte.service;

import io.unimatte.imaging.output.OutputOptions;

/**
 * One image to cut out.
 *
 * @param jobId     job the image belongs to (a single upload is a job of one)
 * @param index     position of the image in its job
 * @param data      the uploaded file's bytes
 * @param options   what to return (cutout or matte, format, background, crop, size)
 * @param withMatte also encode the grey matte ({@link MatteResult#matteBytes()})
 * @param model     the model to use; null for the default model
 */
public record MatteRequest(String jobId, int index, byte[] data, OutputOptions options, boolean withMatte,
                           String model) {
}
