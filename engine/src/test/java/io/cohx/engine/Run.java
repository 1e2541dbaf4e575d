package io.cohx.engine;

import io.cohx.pjrt.PjrtClient;
import io.cohx.pjrt.testing.TestPlugins;

import java.util.function.Function;

/** Test helper: runs a function once on the shared one-device CPU client and reads results back. */
final class Run {
    private Run() {}

    static PjrtClient client() {
        return TestPlugins.cpuClient(1);
    }

    static Tree<NdArray> once(String name, Tree<NdArray> inputs, Function<Tree<Tensor>, Tree<Tensor>> fn) {
        try (Jit jit = Jit.builder(name, fn).build(client())) {
            Tree<DeviceArray> out = jit.call(inputs);
            Tree<NdArray> host = out.map(DeviceArray::toHost);
            out.values().forEach(DeviceArray::close);
            return host;
        }
    }
}
