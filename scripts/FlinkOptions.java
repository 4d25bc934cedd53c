// Prints the configuration options one Flink distribution defines, read with Flink's own classes.
//
// Usage (Java 11+ runs a single source file): java scripts/FlinkOptions.java JAR...
//
// Every class of the given jars whose bytes mention ConfigOption is loaded (not initialised
// unless it declares a static ConfigOption field); the value of each such field is asked for
// its key() and its fallback keys (fallbackKeys(), or deprecatedKeys() where a version has
// no fallbackKeys()). Output, one line each, unsorted and possibly repeated:
//     primary<TAB>key       the option's own key
//     fallback<TAB>key      a fallback or deprecated key Flink still reads for it
//     map<TAB>key           the option holds a map, which Flink also reads as `key.<map key>`
// Classes that do not load (their dependencies are not among the jars) are skipped, with a
// count on stderr. scripts/flink-options runs this once per Flink version.

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

public class FlinkOptions {
    private static final String OPTION = "org.apache.flink.configuration.ConfigOption";
    private static final byte[] DESCRIPTOR =
            ("L" + OPTION.replace('.', '/') + ";").getBytes(StandardCharsets.US_ASCII);

    public static void main(String[] args) throws Exception {
        URL[] urls = new URL[args.length];
        for (int i = 0; i < args.length; i++) {
            urls[i] = Path.of(args[i]).toUri().toURL();
        }
        ClassLoader loader = new URLClassLoader(urls, ClassLoader.getPlatformClassLoader());
        Class<?> option = loader.loadClass(OPTION);
        TreeSet<String> out = new TreeSet<>();
        int skipped = 0;
        for (String jar : args) {
            for (String name : candidateClasses(jar)) {
                try {
                    collect(Class.forName(name, false, loader), option, out);
                } catch (Throwable e) {
                    skipped++;
                    if (System.getenv("FLINK_OPTIONS_DEBUG") != null) System.err.println(name + ": " + e);
                }
            }
        }
        for (String line : out) {
            System.out.println(line);
        }
        System.err.println("FlinkOptions: " + out.size() + " lines, " + skipped + " classes skipped");
        System.exit(0); // static initialisers may have started non-daemon threads
    }

    /** Classes whose constant pool names the ConfigOption type: only they can hold one. */
    private static List<String> candidateClasses(String jar) throws IOException {
        List<String> names = new ArrayList<>();
        try (JarFile file = new JarFile(jar)) {
            Enumeration<JarEntry> entries = file.entries();
            while (entries.hasMoreElements()) {
                JarEntry entry = entries.nextElement();
                String name = entry.getName();
                if (!name.endsWith(".class") || name.startsWith("META-INF/")
                        || name.contains("/shaded/") || name.equals("module-info.class")) {
                    continue;
                }
                try (InputStream in = file.getInputStream(entry)) {
                    if (contains(in.readAllBytes(), DESCRIPTOR)) {
                        names.add(name.substring(0, name.length() - 6).replace('/', '.'));
                    }
                }
            }
        }
        return names;
    }

    private static void collect(Class<?> type, Class<?> option, TreeSet<String> out)
            throws ReflectiveOperationException {
        for (Field field : type.getDeclaredFields()) {
            if (!Modifier.isStatic(field.getModifiers()) || !option.isAssignableFrom(field.getType())) {
                continue;
            }
            field.setAccessible(true);
            Object value = field.get(null);
            if (value == null) {
                continue;
            }
            String key = (String) option.getMethod("key").invoke(value);
            out.add("primary\t" + key);
            if (isMap(option, value)) {
                out.add("map\t" + key);
            }
            for (String fallback : fallbackKeys(option, value)) {
                out.add("fallback\t" + fallback);
            }
        }
    }

    /** Whether the option holds a map, which Flink also reads from `key.<map key>` options. */
    private static boolean isMap(Class<?> option, Object value) throws ReflectiveOperationException {
        Field clazz;
        Field list;
        try {
            clazz = option.getDeclaredField("clazz");
            list = option.getDeclaredField("isList");
        } catch (NoSuchFieldException e) {
            return false; // untyped options (Flink 1.9) hold no maps
        }
        clazz.setAccessible(true);
        list.setAccessible(true);
        Object type = clazz.get(value);
        return type == java.util.Map.class && !list.getBoolean(value);
    }

    private static List<String> fallbackKeys(Class<?> option, Object value)
            throws ReflectiveOperationException {
        List<String> keys = new ArrayList<>();
        Method method;
        try {
            method = option.getMethod("fallbackKeys");
        } catch (NoSuchMethodException e) {
            method = option.getMethod("deprecatedKeys");
        }
        for (Object key : (Iterable<?>) method.invoke(value)) {
            if (key instanceof String) {
                keys.add((String) key);
            } else {
                keys.add((String) key.getClass().getMethod("getKey").invoke(key));
            }
        }
        return keys;
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
