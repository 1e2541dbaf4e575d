package io.cohx.coh.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Expands what a user gives as training data (a comma list of files, folders and globs such as
 * {@code data/c4-*.jsonl.gz} or {@code data/**}{@code /*.jsonl}) into a sorted list of files, so
 * the order, and with it every batch, is the same on every run and every host.
 */
public final class DataFiles {

    private DataFiles() {
    }

    public static List<Path> expand(String spec) {
        var out = new ArrayList<Path>();
        for (String part : spec.split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            int glob = firstGlobChar(p);
            if (glob < 0) {
                Path path = Path.of(p);
                if (Files.isDirectory(path)) {
                    out.addAll(walk(path, f -> InputFile.isDataFile(f)));
                } else if (Files.isRegularFile(path)) {
                    out.add(path);
                } else {
                    throw new DataException("data file " + p + " does not exist");
                }
                continue;
            }
            int slash = p.lastIndexOf('/', glob);
            Path base = slash < 0 ? Path.of(".") : Path.of(p.substring(0, slash + 1));
            var matcher = FileSystems.getDefault().getPathMatcher("glob:" + p);
            var found = walk(base, f -> matcher.matches(slash < 0 ? base.relativize(f) : f));
            if (found.isEmpty()) {
                throw new DataException("no file matches " + p);
            }
            out.addAll(found);
        }
        if (out.isEmpty()) {
            throw new DataException("no data files in '" + spec + "'");
        }
        return out;
    }

    private static int firstGlobChar(String p) {
        for (int i = 0; i < p.length(); i++) {
            if ("*?[{".indexOf(p.charAt(i)) >= 0) {
                return i;
            }
        }
        return -1;
    }

    private static List<Path> walk(Path base, java.util.function.Predicate<Path> keep) {
        if (!Files.isDirectory(base)) {
            return List.of();
        }
        try (Stream<Path> s = Files.walk(base)) {
            return s.filter(Files::isRegularFile).filter(keep).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
