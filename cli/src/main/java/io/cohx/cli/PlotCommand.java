package io.cohx.cli;

import io.cohx.coh.observe.LossPlot;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code cohx plot RUN_DIR}: the loss-curve PNG of a run, from its metrics.jsonl. */
@Command(name = "plot", mixinStandardHelpOptions = true,
        description = "Draw the loss curves of a training run (RUN_DIR/metrics.jsonl) into RUN_DIR/loss.png.")
final class PlotCommand implements Callable<Integer> {
    @Parameters(paramLabel = "RUN_DIR", description = "A run's output directory (holds metrics.jsonl).")
    Path runDir;

    @Option(names = {"-o", "--output"}, paramLabel = "PNG", description = "Where to write the PNG (default: RUN_DIR/loss.png).")
    Path output;

    @Override
    public Integer call() {
        Path metrics = runDir.resolve("metrics.jsonl");
        if (!Files.isRegularFile(metrics)) {
            throw new CohxUserError("no metrics.jsonl in " + runDir + "; pass the --output-dir of a cohx train run");
        }
        Path png = output != null ? output : runDir.resolve("loss.png");
        try {
            int n = LossPlot.write(metrics, png, runDir.toAbsolutePath().normalize().getFileName().toString());
            System.out.println(png + " (" + n + " series)");
            return 0;
        } catch (IOException e) {
            throw new CohxUserError(e.getMessage(), e);
        }
    }
}
