package io.cohx.engine.optim;

/**
 * Learning-rate schedules of the original trainer, evaluated on the host for each step and fed to
 * the compiled step as a scalar (so the schedule never forces a recompile).
 */
@FunctionalInterface
public interface LrSchedule {
    /** The learning rate at optimizer step {@code step} (0-based: the first update uses step 0). */
    double at(long step);

    /**
     * Linear warmup from {@code init} to {@code peak} over {@code warmupSteps}, then cosine decay to
     * {@code end} at {@code decaySteps} (counted from step 0, warmup included), constant after: the
     * schedule of the original "adamw" optimizer (optax's warmup_cosine_decay_schedule).
     */
    static LrSchedule warmupCosine(double init, double peak, long warmupSteps, long decaySteps, double end) {
        if (decaySteps <= warmupSteps) {
            throw new IllegalArgumentException("lr_decay_steps (" + decaySteps + ") must exceed lr_warmup_steps (" + warmupSteps + ")");
        }
        return step -> {
            if (step < warmupSteps) {
                return init + (peak - init) * step / (double) warmupSteps;
            }
            double t = Math.min(step - warmupSteps, decaySteps - warmupSteps) / (double) (decaySteps - warmupSteps);
            double cosine = 0.5 * (1 + Math.cos(Math.PI * t));
            double alpha = peak == 0 ? 0 : end / peak;
            return peak * ((1 - alpha) * cosine + alpha);
        };
    }

    /** {@code lr / sqrt(max(step, warmup))}. */
    static LrSchedule inverseSqrt(double lr, long warmupSteps) {
        return step -> lr / Math.sqrt(Math.max(step, Math.max(1, warmupSteps)));
    }

    /** The original "palm" optimizer's schedule: {@code (lr / 0.01) / sqrt(max(step, warmup))}. */
    static LrSchedule palm(double lr, long warmupSteps) {
        return inverseSqrt(lr / 0.01, warmupSteps);
    }

    static LrSchedule constant(double lr) {
        return step -> lr;
    }
}
