import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Enumeration;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.apache.flink.configuration.ConfigOption;
import org.apache.flink.configuration.FallbackKey;

/**
 * Lists the configuration keys a Flink version knows: every static {@link ConfigOption} field of
 * the {@code *Options} classes in flink-dist, as {@code key<TAB>current}, and their fallback keys as
 * {@code key<TAB>deprecated<TAB>current key} or {@code key<TAB>fallback<TAB>current key}; an option
 * whose field or class is {@code @Deprecated} is listed as {@code key<TAB>deprecated<TAB>(...)}.
 *
 * <p>usage: java -cp 'lib/*' ConfigKeys lib/flink-dist-VERSION.jar
 */
public class ConfigKeys {
    public static void main(String[] args) throws Exception {
        TreeMap<String, String> keys = new TreeMap<>();
        int classes = 0;
        try (JarFile jar = new JarFile(args[0])) {
            for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
                String name = e.nextElement().getName();
                if (!name.startsWith("org/apache/flink/") || !name.endsWith(".class") || name.contains("$")) {
                    continue;
                }
                String simple = name.substring(name.lastIndexOf('/') + 1, name.length() - ".class".length());
                if (!simple.endsWith("Options") && !simple.endsWith("Config") && !simple.endsWith("ConfigOptions")) {
                    continue;
                }
                Class<?> c;
                try {
                    c = Class.forName(name.replace('/', '.').substring(0, name.length() - 6), false,
                            ConfigKeys.class.getClassLoader());
                } catch (Throwable t) {
                    continue;
                }
                classes++;
                for (Field f : fieldsOf(c)) {
                    if (!Modifier.isStatic(f.getModifiers()) || !ConfigOption.class.isAssignableFrom(f.getType())) {
                        continue;
                    }
                    try {
                        f.setAccessible(true);
                        ConfigOption<?> o = (ConfigOption<?>) f.get(null);
                        if (o == null) {
                            continue;
                        }
                        boolean deprecated = f.isAnnotationPresent(Deprecated.class)
                                || c.isAnnotationPresent(Deprecated.class);
                        // a key may be declared twice (e.g. 1.20 moved options to new classes and
                        // deprecated the old ones): a current declaration wins
                        if (deprecated) {
                            keys.putIfAbsent(o.key(), "deprecated\t(the option itself is @Deprecated)");
                        } else {
                            keys.put(o.key(), "current");
                        }
                        for (FallbackKey fk : o.fallbackKeys()) {
                            keys.putIfAbsent(fk.getKey(),
                                    (fk.isDeprecated() ? "deprecated\t" : "fallback\t") + o.key());
                        }
                    } catch (Throwable t) {
                        // a class whose static initialiser needs more than the classpath: skip it
                    }
                }
            }
        }
        StringBuilder out = new StringBuilder();
        for (java.util.Map.Entry<String, String> e : keys.entrySet()) {
            out.append(e.getKey()).append('\t').append(e.getValue()).append('\n');
        }
        System.out.print(out);
        System.err.println("ConfigKeys: " + keys.size() + " keys from " + classes + " classes");
    }

    private static Field[] fieldsOf(Class<?> c) {
        try {
            return c.getDeclaredFields();
        } catch (Throwable t) {
            return new Field[0];
        }
    }
}
