package io.cohx.engine.dist;

import io.cohx.engine.DeviceArray;
import io.cohx.engine.Jit;
import io.cohx.engine.NdArray;
import io.cohx.engine.Tree;
import io.cohx.engine.mesh.Mesh;
import io.cohx.engine.mesh.PartitionSpec;
import io.cohx.pjrt.PjrtClient;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads sharded device arrays on the host when their blocks live on several processes' devices:
 * an identity program whose output is replicated (XLA inserts the all-gather) gives every device
 * a whole copy, which any process then reads from its own device. Every process must gather the
 * same tensors in the same order (it is a collective). One compile per distinct tensor type and
 * layout; one tensor's replicas exist at a time.
 */
public final class HostGather implements AutoCloseable {
    private final Jit identity;
    /** Each tensor's layout, as its array carries it (the program is compiled per path and type). */
    private final Map<String, PartitionSpec> specs = new ConcurrentHashMap<>();

    /** Gathers arrays sharded over {@code mesh}, whatever their layouts. */
    public HostGather(PjrtClient client, Mesh mesh) {
        this.identity = Jit.builder("gather_to_host", in -> in).mesh(mesh, specs::get, path -> PartitionSpec.REPLICATED).build(client);
    }

    /** The whole of {@code a} (tensor {@code path}) on the host of this process. */
    public NdArray toHost(String path, DeviceArray a) {
        if (!a.isSharded()) {
            return a.toHost();
        }
        specs.put(path, a.spec());
        Tree<DeviceArray> out = identity.call(Tree.of(path, a));
        try (DeviceArray whole = out.get(path)) {
            return whole.toHost();
        }
    }

    @Override
    public void close() {
        identity.close();
    }
}
