package io.cohx.bench;

import io.cohx.coh.train.StepIo;
import io.cohx.engine.DType;
import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import java.util.List;

/**
 * Runs a compiled CoH train step {@code steps + 1} times on one batch (fed as both the feedback and
 * the pretraining batch) and times it: the first call, which includes everything since
 * {@code startNanos} (compiling, first transfers), apart from the steady steps after it.
 *
 * @param firstStepSeconds from {@code startNanos} to the end of the first step
 * @param stepSeconds      mean time of the steps after the first
 */
record TimedSteps(double firstStepSeconds, double stepSeconds, double firstLoss, double lastLoss) {

    /**
     * {@code params} and {@code opt} are the step's starting state (host or device arrays); the
     * device arrays the steps make are closed before this returns.
     */
    static TimedSteps run(Jit step, Tree<Object> params, Tree<Object> opt, StepIo.Batch<Object> data, double lr, int steps,
                          long startNanos) {
        Tree<Object> p = params;
        Tree<Object> o = opt;
        double firstStep = 0;
        double steady = 0;
        double firstLoss = 0;
        double loss = 0;
        for (int i = 0; i <= steps; i++) {
            long s0 = System.nanoTime();
            var in = new StepIo.Inputs<Object>(p, o, data, data, NdArray.scalar(DType.F32, lr), NdArray.scalar(DType.S32, i));
            StepIo.Outputs<DeviceArray> out = StepIo.Outputs.from(step.call(in.toTree()));
            loss = out.metrics().hfLoss().toHost().get(0);
            out.metrics().toTree().values().forEach(DeviceArray::close);
            p = out.params().map(x -> x);
            o = out.opt().map(x -> x);
            if (i == 0) {
                firstStep = (System.nanoTime() - startNanos) / 1e9;
                firstLoss = loss;
            } else {
                steady += (System.nanoTime() - s0) / 1e9;
            }
        }
        for (Tree<Object> t : List.of(p, o)) {
            t.values().forEach(x -> ((DeviceArray) x).close()); // device arrays from the first step on
        }
        return new TimedSteps(firstStep, steady / steps, firstLoss, loss);
    }
}
