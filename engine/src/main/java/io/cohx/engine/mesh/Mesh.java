package io.cohx.engine.mesh;

import io.cohx.pjrt.PjrtDevice;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.function.ToIntFunction;

/**
 * A logical device mesh with named axes (cohx uses {@code dp, fsdp, mp}, as the original), laid
 * over a list of devices in row-major order: mesh coordinate {@code (i0, i1, ...)} is partition
 * {@code i0*s1*s2... + i1*s2... + ...}, and partition p runs on {@code devices().get(p)}.
 * Immutable and thread-safe.
 */
public record Mesh(List<String> axisNames, int[] axisSizes, List<PjrtDevice> devices) {

    /** The axis names of the original trainer's {@code mesh_dim}. */
    public static final List<String> AXES = List.of("dp", "fsdp", "mp");

    public Mesh {
        axisNames = List.copyOf(axisNames);
        axisSizes = axisSizes.clone();
        devices = List.copyOf(devices);
        if (axisNames.size() != axisSizes.length) {
            throw new MeshException("mesh has " + axisNames.size() + " axis names but " + axisSizes.length + " sizes");
        }
        int product = Arrays.stream(axisSizes).reduce(1, (a, b) -> a * b);
        if (product != devices.size()) {
            throw new MeshException("mesh " + describe(axisNames, axisSizes) + " has " + product + " positions but there are "
                    + devices.size() + " devices; the product of the mesh dimensions must equal the device count");
        }
    }

    /**
     * Parses {@code --mesh-dim} like the original: comma-separated sizes for dp, fsdp, mp (fewer
     * sizes leave the rest 1), at most one {@code -1}, which takes whatever the device count leaves.
     */
    public static Mesh parse(String meshDim, List<PjrtDevice> devices) {
        String[] parts = meshDim.trim().split(",");
        if (parts.length > AXES.size() || meshDim.isBlank()) {
            throw new MeshException("--mesh-dim '" + meshDim + "': expected up to 3 comma-separated sizes for dp,fsdp,mp, e.g. 1,-1,1");
        }
        int[] sizes = {1, 1, 1};
        int inferred = -1;
        int known = 1;
        for (int i = 0; i < parts.length; i++) {
            int v;
            try {
                v = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new MeshException("--mesh-dim '" + meshDim + "': '" + parts[i].trim() + "' (" + AXES.get(i) + ") is not an integer");
            }
            if (v == -1) {
                if (inferred >= 0) {
                    throw new MeshException("--mesh-dim '" + meshDim + "': at most one dimension may be -1");
                }
                inferred = i;
            } else if (v < 1) {
                throw new MeshException("--mesh-dim '" + meshDim + "': " + AXES.get(i) + " must be >= 1 or -1, got " + v);
            } else {
                sizes[i] = v;
                known *= v;
            }
        }
        int n = devices.size();
        if (inferred >= 0) {
            if (n % known != 0) {
                throw new MeshException("--mesh-dim '" + meshDim + "': the other dimensions multiply to " + known
                        + ", which does not divide the " + n + " devices");
            }
            sizes[inferred] = n / known;
        }
        return new Mesh(AXES, sizes, devices);
    }

    /**
     * The devices of every process in the order a multi-process mesh lays them out: by process
     * index, then by device id within a process (JAX's order for a multi-host mesh on GPU and the
     * host-major order on TPU slices). Each process computes the same order from the client's
     * global device list, so mesh position p names the same device everywhere.
     */
    public static List<PjrtDevice> globalOrder(List<PjrtDevice> devices) {
        return hostMajor(devices, PjrtDevice::processIndex, PjrtDevice::id);
    }

    /** {@link #globalOrder} for any device description (tests use plain records). */
    public static <D> List<D> hostMajor(List<D> devices, ToIntFunction<D> process, ToIntFunction<D> id) {
        return devices.stream().sorted(Comparator.comparingInt(process).thenComparingInt(id)).toList();
    }

    /**
     * The rows {@code [from, to)} of a {@code batch}-row global batch that process
     * {@code process} must supply: the batch is split over (dp, fsdp), the leading mesh axes, so
     * mesh position k holds slice {@code k / mp}; a process needs the slices of its own devices.
     * Contiguous by construction of {@link #globalOrder}; several processes share rows when mp
     * spans hosts.
     */
    public int[] batchRows(int process, int batch) {
        int[] owner = devices.stream().mapToInt(PjrtDevice::processIndex).toArray();
        return batchRows(owner, axisSize("mp"), batch, process);
    }

    /** {@link #batchRows(int, int)} from the process index of each mesh position. */
    public static int[] batchRows(int[] processOfPosition, int mp, int batch, int process) {
        int slices = processOfPosition.length / mp;
        if (batch % slices != 0) {
            throw new MeshException("a batch of " + batch + " rows does not split over dp x fsdp = " + slices + " devices");
        }
        int rowsPerSlice = batch / slices;
        int first = Integer.MAX_VALUE, last = -1;
        for (int k = 0; k < processOfPosition.length; k++) {
            if (processOfPosition[k] == process) {
                first = Math.min(first, k / mp);
                last = Math.max(last, k / mp);
            }
        }
        if (last < 0) {
            throw new MeshException("process " + process + " has no device in the mesh");
        }
        for (int slice = first; slice <= last; slice++) {
            if (!sharesSlice(processOfPosition, mp, slice, process)) {
                throw new MeshException("process " + process + "'s batch rows are not contiguous in this mesh; order the devices with"
                        + " Mesh.globalOrder");
            }
        }
        return new int[] {first * rowsPerSlice, (last + 1) * rowsPerSlice};
    }

    private static boolean sharesSlice(int[] owner, int mp, int slice, int process) {
        for (int k = slice * mp; k < (slice + 1) * mp; k++) {
            if (owner[k] == process) {
                return true;
            }
        }
        return false;
    }

    /** A one-device mesh (every axis 1). */
    public static Mesh single(PjrtDevice device) {
        return new Mesh(AXES, new int[] {1, 1, 1}, List.of(device));
    }

    public int size() {
        return devices.size();
    }

    public int axisSize(String axis) {
        return axisSizes[axisIndex(axis)];
    }

    public int axisIndex(String axis) {
        int i = axisNames.indexOf(axis);
        if (i < 0) {
            throw new MeshException("mesh has no axis '" + axis + "'; axes are " + axisNames);
        }
        return i;
    }

    /** Mesh coordinates of partition {@code p}. */
    public int[] coordinates(int p) {
        int[] c = new int[axisSizes.length];
        for (int i = axisSizes.length - 1; i >= 0; i--) {
            c[i] = p % axisSizes[i];
            p /= axisSizes[i];
        }
        return c;
    }

    /** Global device ids in partition order (the compile options' device assignment). */
    public int[] deviceIds() {
        return devices.stream().mapToInt(PjrtDevice::id).toArray();
    }

    /** The Shardy mesh declaration, e.g. {@code sdy.mesh @mesh = <["dp"=1, "fsdp"=8, "mp"=1]>}. */
    public String sdyMesh(String name) {
        var axes = new ArrayList<String>();
        for (int i = 0; i < axisSizes.length; i++) {
            axes.add("\"" + axisNames.get(i) + "\"=" + axisSizes[i]);
        }
        return "sdy.mesh @" + name + " = <[" + String.join(", ", axes) + "]>";
    }

    @Override
    public String toString() {
        return describe(axisNames, axisSizes);
    }

    private static String describe(List<String> names, int[] sizes) {
        var sb = new StringBuilder("(");
        for (int i = 0; i < sizes.length; i++) {
            sb.append(i > 0 ? ", " : "").append(names.get(i)).append('=').append(sizes[i]);
        }
        return sb.append(')').toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Mesh m && m.axisNames.equals(axisNames) && Arrays.equals(m.axisSizes, axisSizes) && m.devices.equals(devices);
    }

    @Override
    public int hashCode() {
        return axisNames.hashCode() * 31 + Arrays.hashCode(axisSizes);
    }
}
