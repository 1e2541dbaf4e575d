package io.cohx.serve;

import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.Rng;
import io.cohx.engine.Tree;
import io.cohx.models.CausalLm;
import io.cohx.models.config.ModelConfig;
import io.cohx.models.config.ModelConfigs;
import io.cohx.pjrt.PjrtClient;

/** A model with random weights on the device for the server's tests: a preset with {@code updates} applied. */
record TestModel(CausalLm model, Tree<DeviceArray> params) implements AutoCloseable {

    static TestModel random(String modelType, String preset, String updates, long seed, PjrtClient client) {
        ModelConfig mc = ModelConfigs.resolve(preset, modelType);
        if (!updates.isBlank()) {
            mc = mc.withUpdates(ModelConfigs.parseOverrides(updates, "updates"), "updates");
        }
        CausalLm lm = CausalLm.of(mc);
        try (Jit init = Jit.builder("init_params", t -> lm.init(Rng.key(seed))).build(client)) {
            return new TestModel(lm, init.call(Tree.empty()));
        }
    }

    @Override
    public void close() {
        params.values().forEach(DeviceArray::close);
    }
}
