package io.unimatte.jobs;

import io.unimatte.imaging.output.OutputOptions;

/**
 * A new batch job as it arrives from an API: its images, already staged on disk, and what to make
 * of them. Travels over the local event bus by reference. The jobs verticle either commits the
 * staged inputs (the job then exists) or discards them with the reason it refused the job.
 *
 * @param inputs    the uploaded files, in order, staged with {@link JobStore#stage}
 * @param options   output options (cutout or matte, format, background, crop, size)
 * @param withMatte also store the grey matte of each image (for archives)
 * @param source    which way in created it ({@code http}, {@code websocket})
 * @param client    who asked (checked API key or address), for the per-client limit on running jobs
 * @param owner     whose job it is ({@link Viewer#owner()}): the only one, with admins, who may see it
 * @param model     the model to use (never null: the API resolves the default)
 */
public record JobSubmission(JobInputs inputs, OutputOptions options, boolean withMatte,
                            String source, String client, String owner, String model) {
}
