package io.cohx.engine.mesh;

import io.cohx.pjrt.ElementType;
import io.cohx.pjrt.PjrtBuffer;
import io.cohx.pjrt.PjrtClient;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;

/**
 * Moves dense row-major host arrays onto a mesh as per-device shards and back. Each device gets
 * only its block (copied out of the host array one contiguous run at a time), so a sharded put
 * never materializes more than one shard beyond the source; gathering takes one copy of each block.
 */
public final class ShardedTransfer {
    private ShardedTransfer() {}

    /**
     * Puts {@code host} (global shape {@code dims}) on every device of {@code mesh} that this
     * process can address, split by {@code spec}; one buffer per partition, null for a partition
     * on another process's device (in a multi-process run each process puts only its own blocks,
     * and only they need to be right in {@code host}).
     */
    public static List<PjrtBuffer> put(PjrtClient client, Mesh mesh, PartitionSpec spec, String tensor,
                                       MemorySegment host, ElementType type, long[] dims) {
        long[] local = spec.localDims(tensor, dims, mesh);
        long need = Arrays.stream(dims).reduce(1, (a, b) -> a * b) * type.byteSize();
        if (host.byteSize() < need) {
            throw new MeshException(tensor + ": host data has " + host.byteSize() + " bytes, shape " + Arrays.toString(dims)
                    + " of " + type + " needs " + need);
        }
        var out = new ArrayList<PjrtBuffer>(mesh.size());
        try (Arena arena = Arena.ofConfined()) {
            long localBytes = Arrays.stream(local).reduce(1, (a, b) -> a * b) * type.byteSize();
            MemorySegment block = arena.allocate(Math.max(1, localBytes), 64);
            for (int p = 0; p < mesh.size(); p++) {
                if (!mesh.devices().get(p).isAddressable()) {
                    out.add(null);
                    continue;
                }
                long[] start = blockStart(spec, mesh, p, local);
                copyBlock(host, dims, block, local, start, type.byteSize(), true);
                out.add(client.bufferFromHost(block, type, local, mesh.devices().get(p)));
            }
        } catch (RuntimeException e) {
            out.stream().filter(Objects::nonNull).forEach(PjrtBuffer::close);
            throw e;
        }
        return out;
    }

    /**
     * Reassembles the global array from per-partition {@code shards} laid out by {@code spec}.
     * Shards on other processes' devices are null; every block must still be held here (a
     * replicated array, or one whose blocks all have a local replica), else this says so.
     */
    public static void gather(Mesh mesh, PartitionSpec spec, String tensor, List<PjrtBuffer> shards, MemorySegment host, long[] dims) {
        if (shards.size() != mesh.size()) {
            throw new MeshException(tensor + ": " + shards.size() + " shards for a mesh of " + mesh.size() + " devices");
        }
        PjrtBuffer any = shards.stream().filter(Objects::nonNull).findFirst()
                .orElseThrow(() -> new MeshException(tensor + ": no shard is on this process's devices"));
        ElementType type = any.elementType();
        long[] local = spec.localDims(tensor, dims, mesh);
        try (Arena arena = Arena.ofConfined()) {
            long localBytes = Arrays.stream(local).reduce(1, (a, b) -> a * b) * type.byteSize();
            MemorySegment block = arena.allocate(Math.max(1, localBytes), 64);
            var done = new HashSet<String>();
            for (int p = 0; p < mesh.size(); p++) {
                long[] start = blockStart(spec, mesh, p, local);
                PjrtBuffer b = shards.get(p);
                if (b == null || !done.add(Arrays.toString(start))) {
                    continue; // on another process, or a replica of a block already copied
                }
                if (!Arrays.equals(b.dims(), local)) {
                    throw new MeshException(tensor + ": shard " + p + " has shape " + Arrays.toString(b.dims()) + ", expected "
                            + Arrays.toString(local) + " for " + spec + " on " + mesh);
                }
                b.toHost(block);
                copyBlock(host, dims, block, local, start, type.byteSize(), false);
            }
            var all = new HashSet<String>();
            for (int p = 0; p < mesh.size(); p++) {
                all.add(Arrays.toString(blockStart(spec, mesh, p, local)));
            }
            if (done.size() < all.size()) {
                throw new MeshException(tensor + ": this process holds " + done.size() + " of its " + all.size() + " blocks (the others are"
                        + " on other processes' devices); replicate it (a program whose output is replicated) before reading it here");
            }
        }
    }

    private static long[] blockStart(PartitionSpec spec, Mesh mesh, int partition, long[] local) {
        int[] coords = mesh.coordinates(partition);
        long[] start = new long[local.length];
        for (int d = 0; d < local.length; d++) {
            start[d] = spec.shardIndex(d, mesh, coords) * local[d];
        }
        return start;
    }

    /** Copies between the global array and one block, a contiguous innermost run at a time. */
    private static void copyBlock(MemorySegment global, long[] dims, MemorySegment block, long[] local, long[] start,
                                  int elemSize, boolean toBlock) {
        int rank = dims.length;
        if (rank == 0) {
            if (toBlock) {
                MemorySegment.copy(global, 0, block, 0, elemSize);
            } else {
                MemorySegment.copy(block, 0, global, 0, elemSize);
            }
            return;
        }
        long[] gStride = new long[rank];
        gStride[rank - 1] = elemSize;
        for (int d = rank - 2; d >= 0; d--) {
            gStride[d] = gStride[d + 1] * dims[d + 1];
        }
        long run = local[rank - 1] * elemSize;
        long rows = 1;
        for (int d = 0; d < rank - 1; d++) {
            rows *= local[d];
        }
        long[] idx = new long[Math.max(0, rank - 1)];
        for (long r = 0; r < rows; r++) {
            long g = start[rank - 1] * elemSize;
            for (int d = 0; d < rank - 1; d++) {
                g += (start[d] + idx[d]) * gStride[d];
            }
            long b = r * run;
            if (toBlock) {
                MemorySegment.copy(global, g, block, b, run);
            } else {
                MemorySegment.copy(block, b, global, g, run);
            }
            for (int d = rank - 2; d >= 0; d--) {
                if (++idx[d] < local[d]) {
                    break;
                }
                idx[d] = 0;
            }
        }
    }
}
