package io.cohx.cli;

import io.cohx.coh.train.TrainConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Checks of a training configuration that need no device: every error names the flag or file. */
final class Validation {
    private Validation() {}

    static void check(TrainConfig c) {
        positive("--seq-length", c.seqLength());
        positive("--batch-size", c.batchSize());
        positive("--accumulate-gradient-steps", c.accumulateGradientSteps());
        positive("--total-steps", c.totalSteps());
        positive("--log-freq", c.logFreq());
        if (c.lr() < 0 || c.initLr() < 0 || c.endLr() < 0) {
            throw new CohxUserError("--lr, --init-lr and --end-lr must not be negative");
        }
        if (c.fcmMinRatio() < 0 || c.fcmMaxRatio() > 1 || c.fcmMinRatio() > c.fcmMaxRatio() && c.fcmMaxRatio() > 0) {
            throw new CohxUserError("--fcm-min-ratio/--fcm-max-ratio must satisfy 0 <= min <= max <= 1");
        }
        files("--train-data", c.trainData());
        files("--eval-data", c.evalData());
        files("--pt-train-data", c.ptTrainData());
        files("--pt-eval-data", c.ptEvalData());
    }

    private static void positive(String flag, long v) {
        if (v <= 0) {
            throw new CohxUserError(flag + " must be positive, got " + v);
        }
    }

    private static void files(String flag, List<Path> paths) {
        for (Path p : paths) {
            if (!Files.isRegularFile(p)) {
                throw new CohxUserError(flag + " " + p + ": no such file");
            }
        }
    }
}
