package io.cohx.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.cohx.models.config.Suggestions;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Config files for commands with many options (cohx train): a JSON object whose keys are the
 * command's long option names, with or without {@code --}, in kebab-case or the original
 * trainer's snake_case ({@code total_steps} = {@code --total-steps}). The file's values become
 * arguments placed before the command line's, so flags override the file. An unknown key is an
 * error naming the file, the key and the closest valid name.
 */
public final class ConfigFile {
    private ConfigFile() {}

    private static final ObjectMapper JSON = new ObjectMapper();

    /** {@code args} with the {@code --config FILE} options replaced by the file's settings, in front. */
    public static String[] expand(String[] args, CommandSpec spec) {
        var front = new ArrayList<String>();
        var rest = new ArrayList<String>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--config") && i + 1 < args.length) {
                front.addAll(read(Path.of(args[++i]), spec));
            } else if (a.startsWith("--config=")) {
                front.addAll(read(Path.of(a.substring("--config=".length())), spec));
            } else {
                rest.add(a);
            }
        }
        front.addAll(rest);
        return front.toArray(String[]::new);
    }

    /** The arguments a config file stands for. */
    static List<String> read(Path file, CommandSpec spec) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            var loc = e.getLocation();
            throw new CohxUserError(file + (loc != null ? ":" + loc.getLineNr() + ":" + loc.getColumnNr() : "")
                    + ": not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CohxUserError("cannot read config file " + file + ": " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new CohxUserError(file + ": a config file holds one JSON object of option names and values");
        }
        var out = new ArrayList<String>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = "--" + e.getKey().replaceFirst("^--", "").replace('_', '-');
            OptionSpec opt = spec.findOption(name);
            if (opt == null || name.equals("--config")) {
                throw new CohxUserError(file + ": unknown key '" + e.getKey() + "'" + suggestion(name, spec));
            }
            JsonNode v = e.getValue();
            boolean flag = opt.arity().max() == 0;
            if (flag) {
                if (!v.isBoolean()) {
                    throw new CohxUserError(file + ": key '" + e.getKey() + "' is a switch; use true or false");
                }
                if (v.booleanValue()) {
                    out.add(opt.longestName());
                }
            } else if (v.isArray()) {
                for (JsonNode x : v) {
                    out.add(opt.longestName() + "=" + text(x));
                }
            } else if (!v.isNull()) {
                out.add(opt.longestName() + "=" + text(v));
            }
        }
        return out;
    }

    private static String text(JsonNode v) {
        return v.isValueNode() ? v.asText() : v.toString();
    }

    /** "; did you mean 'total-steps'?" for the closest long option name, or a pointer to --help if none is close. */
    static String suggestion(String name, CommandSpec spec) {
        var names = spec.options().stream().map(OptionSpec::longestName).filter(n -> n.startsWith("--") && !n.equals("--config"))
                .map(n -> n.substring(2)).toList();
        String s = Suggestions.closest(name.replaceFirst("^--", ""), names);
        return s.isEmpty() ? "; see --help for the valid options" : s;
    }
}
