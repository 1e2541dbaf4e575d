package io.cohx.models;

import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tensor;
import io.cohx.engine.Tree;
import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;

import java.util.function.Function;

/** Test helper: compiles a function on the shared one-device CPU client, runs it and reads the results back. */
final class ModelRun {
    private ModelRun() {}

    static PjrtClient client() {
        return TestPlugins.testClient();
    }

    static Tree<NdArray> once(String name, Tree<?> inputs, Function<Tree<Tensor>, Tree<Tensor>> fn) {
        try (Jit jit = Jit.builder(name, fn).build(client())) {
            return call(jit, inputs);
        }
    }

    static Tree<NdArray> call(Jit jit, Tree<?> inputs) {
        Tree<DeviceArray> out = jit.call(inputs);
        Tree<NdArray> host = out.map(DeviceArray::toHost);
        out.values().forEach(DeviceArray::close);
        return host;
    }

    static double maxAbsDiff(NdArray a, NdArray b) {
        if (!a.type().equals(b.type())) {
            throw new AssertionError("types differ: " + a.type() + " vs " + b.type());
        }
        double m = 0;
        for (long i = 0; i < a.size(); i++) {
            m = Math.max(m, Math.abs(a.get(i) - b.get(i)));
        }
        return m;
    }

    static double scalar(Tree<NdArray> t, String path) {
        return t.get(path).get(0);
    }
}
