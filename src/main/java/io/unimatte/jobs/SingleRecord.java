package io.unimatte.jobs;

import io.unimatte.imaging.output.OutputOptions;
import io.unimatte.service.MatteResult;

/**
 * A single cutout already made (an upload answered at once), to be kept in the history as a finished
 * one-image job. Travels over the local event bus by reference, like {@link JobSubmission}.
 *
 * @param inputs  the uploaded image, staged with {@link JobStore#stage} (one input; its id becomes the job's)
 * @param options the output options it was made with
 * @param source  which way in made it ({@code single})
 * @param client  who asked (API key or address)
 * @param owner   whose job it is ({@link Viewer#owner()})
 * @param model   the model that made it
 * @param result  the cutout, stored as the job's item 0
 */
public record SingleRecord(JobInputs inputs, OutputOptions options, String source, String client, String owner,
                           String model,
                           MatteResult result) {
}
