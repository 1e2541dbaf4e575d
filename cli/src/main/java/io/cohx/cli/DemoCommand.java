package io.cohx.cli;

import io.cohx.coh.data.FeedbackDataset;
import io.cohx.coh.data.PackJob;
import io.cohx.coh.data.PackOptions;
import io.cohx.coh.data.SampleData;
import io.cohx.coh.train.TrainConfig;
import io.cohx.coh.train.Trainer;
import io.cohx.pjrt.PjrtClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code cohx demo}: the whole pipeline on the bundled sample data, on CPU, in a few minutes:
 * pack the HH-format sample feedback into CoH sequences, train the debug LLaMA with CoH plus a
 * little pretraining loss, show the loss falling, save a checkpoint and the loss plot.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Pack the bundled sample feedback data and train a tiny LLaMA with Chain of Hindsight on CPU (a few minutes).")
final class DemoCommand implements Callable<Integer> {
    @Option(names = "--output-dir", defaultValue = "runs/demo", description = "Where the demo writes everything (default: ${DEFAULT-VALUE}).")
    Path outputDir;

    @Option(names = "--steps", defaultValue = "120", description = "Training steps (default: ${DEFAULT-VALUE}).")
    long steps;

    @Mixin
    PlatformOptions platform;

    @Override
    public Integer call() throws Exception {
        Path out = outputDir.toAbsolutePath().normalize();
        if (Files.exists(out.resolve("checkpoints"))) {
            throw new CohxUserError(out + " holds an earlier demo; remove it or pass --output-dir DIR");
        }
        Path data = out.resolve("data");
        System.out.println("cohx demo: 1/2 packing the bundled sample feedback (HH-RLHF format) into CoH sequences");
        var options = PackOptions.defaults();
        var request = new PackJob.Request(List.of(FeedbackDataset.DIALOGUE),
                Map.of(FeedbackDataset.DIALOGUE, SampleData.dialogueInputs(out.resolve("samples"))), options, data, false, null);
        System.out.print(new PackJob(request, System.err).run().table());
        String types = options.feedback().text();
        Path train = data.resolve(PackJob.trainFile(types));
        Path eval = data.resolve(PackJob.evalFile(types));
        Path pretrain = out.resolve("samples").resolve(SampleData.PRETRAIN);

        System.out.println("cohx demo: 2/2 training the debug LLaMA (GPT-2 tokenizer) with CoH on CPU for " + steps + " steps");
        // The debug LLaMA with GPT-2's vocabulary, short sequences, a higher learning rate and a
        // schedule scaled to the run; everything else is cohx train's defaults.
        var cfg = TrainConfig.of(c -> {
            c.updateModelConfig = "vocab_size=50257";
            c.tokenizer = "gpt2";
            c.trainData = List.of(train);
            c.evalData = List.of(eval);
            c.ptTrainData = List.of(pretrain);
            c.ptEvalData = List.of(pretrain);
            c.seqLength = 128;
            c.lr = 3e-3;
            c.endLr = 3e-4;
            c.lrWarmupSteps = Math.max(1, steps / 10);
            c.lrDecaySteps = Math.max(steps + 1, 2 * steps);
            c.totalSteps = steps;
            c.logFreq = Math.max(1, steps / 15);
            c.evalSteps = 2;
            c.outputDir = out.resolve("run");
        });
        Trainer.Result r;
        try (PjrtClient client = platform.client(1)) {
            r = new Trainer(cfg, client, System.out).run();
        }
        System.out.println();
        System.out.println("Done. What the demo left in " + out + ":");
        System.out.println("  data/                 the packed CoH sequences (" + train.getFileName() + ", " + eval.getFileName() + ")");
        System.out.println("  run/metrics.jsonl     losses per step; run/loss.png the curves; run/tensorboard/ for TensorBoard");
        System.out.println("  " + out.relativize(r.checkpoint()) + "   the trained model (safetensors + manifest.json)");
        System.out.println("Next: cohx plot " + out.resolve("run") + " | cohx train --help | cohx pack --help");
        return 0;
    }
}
