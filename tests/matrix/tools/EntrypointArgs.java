import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Runs a Flink version's own entrypoint argument parser on a recorded argv and prints what the
 * entrypoint would take from it, plus the effective configuration (that version's
 * GlobalConfiguration.loadConfiguration(configDir, dynamic properties)), as JSON.
 *
 * <p>Compiled at run time against the version's flink-dist jar, called reflectively, because the
 * classes moved between versions (tests/matrix/README.md):
 * <ul>
 *   <li>job: org.apache.flink.container.entrypoint.StandaloneJobClusterConfigurationParserFactory
 *       (1.9, 1.10) or StandaloneApplicationClusterConfigurationParserFactory (1.11+);
 *   <li>session: org.apache.flink.runtime.entrypoint.EntrypointClusterConfigurationParserFactory;
 *   <li>taskmanager: org.apache.flink.runtime.entrypoint.ClusterConfigurationParserFactory
 *       (what TaskManagerRunner.loadConfiguration uses);
 * </ul>
 * each with org.apache.flink.runtime.entrypoint.parser.CommandLineParser, as the entrypoints'
 * main methods do.
 *
 * <p>usage: EntrypointArgs KIND ARGV_FILE OUT_FILE [KIND ARGV_FILE OUT_FILE ...]; ARGV_FILE holds
 * the program arguments NUL-separated. One JVM handles every process of one version.
 */
public class EntrypointArgs {
    public static void main(String[] a) throws Exception {
        for (int i = 0; i + 2 < a.length; i += 3) {
            String out;
            try {
                out = run(a[i], readArgv(a[i + 1]));
            } catch (Throwable t) {
                Throwable c = t;
                while (c.getCause() != null && c instanceof java.lang.reflect.InvocationTargetException) {
                    c = c.getCause();
                }
                StringBuilder sb = new StringBuilder("{\"error\":");
                str(sb, c.getClass().getName() + ": " + c.getMessage());
                Throwable cause = c.getCause();
                if (cause != null) {
                    sb.append(",\"cause\":");
                    str(sb, cause.getClass().getName() + ": " + cause.getMessage());
                }
                out = sb.append("}").toString();
            }
            Files.write(Paths.get(a[i + 2]), out.getBytes(StandardCharsets.UTF_8));
        }
    }

    static String[] readArgv(String file) throws Exception {
        String s = new String(Files.readAllBytes(Paths.get(file)), StandardCharsets.UTF_8);
        List<String> l = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '\0') {
                l.add(s.substring(start, i));
                start = i + 1;
            }
        }
        return l.toArray(new String[0]);
    }

    static Class<?> first(String... names) throws ClassNotFoundException {
        for (String n : names) {
            try {
                return Class.forName(n);
            } catch (ClassNotFoundException e) {
                // next
            }
        }
        throw new ClassNotFoundException(String.join(" or ", names));
    }

    static String run(String kind, String[] argv) throws Exception {
        Class<?> factoryClass;
        if (kind.equals("job")) {
            factoryClass = first(
                    "org.apache.flink.container.entrypoint.StandaloneApplicationClusterConfigurationParserFactory",
                    "org.apache.flink.container.entrypoint.StandaloneJobClusterConfigurationParserFactory");
        } else if (kind.equals("session")) {
            factoryClass = first("org.apache.flink.runtime.entrypoint.EntrypointClusterConfigurationParserFactory");
        } else {
            factoryClass = first("org.apache.flink.runtime.entrypoint.ClusterConfigurationParserFactory");
        }
        Object factory = factoryClass.getDeclaredConstructor().newInstance();
        Class<?> parserClass = Class.forName("org.apache.flink.runtime.entrypoint.parser.CommandLineParser");
        Class<?> factoryIface = Class.forName("org.apache.flink.runtime.entrypoint.parser.ParserResultFactory");
        Object parser = parserClass.getConstructor(factoryIface).newInstance(factory);
        Object result = parserClass.getMethod("parse", String[].class).invoke(parser, (Object) argv);

        StringBuilder sb = new StringBuilder("{");
        sb.append("\"factory\":");
        str(sb, factoryClass.getName());
        Properties dyn = (Properties) call(result, "getDynamicProperties");
        TreeMap<String, String> dynMap = new TreeMap<>();
        for (String k : dyn.stringPropertyNames()) {
            dynMap.put(k, dyn.getProperty(k));
        }
        sb.append(",\"dynamicProperties\":");
        map(sb, dynMap);
        String configDir = (String) call(result, "getConfigDir");
        sb.append(",\"configDir\":");
        str(sb, configDir);
        sb.append(",\"args\":");
        strs(sb, (String[]) call(result, "getArgs"));
        if (kind.equals("job")) {
            sb.append(",\"jobClassName\":");
            str(sb, (String) call(result, "getJobClassName"));
            Object jobId = call(result, "getJobId");
            sb.append(",\"jobId\":");
            str(sb, jobId == null ? null : jobId.toString());
            Object srs = call(result, "getSavepointRestoreSettings");
            sb.append(",\"savepointPath\":");
            str(sb, (String) call(srs, "getRestorePath"));
            sb.append(",\"allowNonRestoredState\":").append(call(srs, "allowNonRestoredState"));
        }
        if (!kind.equals("taskmanager")) {
            try {
                sb.append(",\"hostname\":");
                str(sb, (String) call(result, "getHostname"));
                sb.append(",\"restPort\":").append(call(result, "getRestPort"));
            } catch (NoSuchMethodException e) {
                sb.append("null");
            }
        }
        // the effective configuration: GlobalConfiguration.loadConfiguration(configDir, dynamic properties)
        Class<?> confClass = Class.forName("org.apache.flink.configuration.Configuration");
        Object dynConf = confClass.getDeclaredConstructor().newInstance();
        Method setString = confClass.getMethod("setString", String.class, String.class);
        for (Map.Entry<String, String> e : dynMap.entrySet()) {
            setString.invoke(dynConf, e.getKey(), e.getValue());
        }
        Class<?> global = Class.forName("org.apache.flink.configuration.GlobalConfiguration");
        Object effective = global.getMethod("loadConfiguration", String.class, confClass).invoke(null, configDir, dynConf);
        @SuppressWarnings("unchecked")
        Map<String, String> eff = new TreeMap<>((Map<String, String>) confClass.getMethod("toMap").invoke(effective));
        if (!kind.equals("taskmanager")) {
            // ClusterEntrypoint.loadConfiguration / loadConfigurationFromClusterConfig: --host and
            // --webui-port (jobmanager.sh up to 1.14 passes them) override the loaded configuration
            try {
                String host = (String) call(result, "getHostname");
                if (host != null) {
                    eff.put("jobmanager.rpc.address", host);
                }
                int restPort = (Integer) call(result, "getRestPort");
                if (restPort >= 0) {
                    eff.put("rest.port", Integer.toString(restPort));
                }
            } catch (NoSuchMethodException e) {
                // this version's configuration class has no host/port
            }
        }
        sb.append(",\"effective\":");
        map(sb, new TreeMap<>(eff));
        return sb.append("}").toString();
    }

    static Object call(Object o, String m) throws Exception {
        // the configuration classes are package-private in some versions: look up declared methods
        for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
            for (Method method : c.getDeclaredMethods()) {
                if (method.getName().equals(m) && method.getParameterCount() == 0) {
                    method.setAccessible(true);
                    return method.invoke(o);
                }
            }
        }
        throw new NoSuchMethodException(o.getClass().getName() + "." + m + "()");
    }

    static void map(StringBuilder sb, Map<String, String> m) {
        sb.append("{");
        boolean f = true;
        for (Map.Entry<String, String> e : m.entrySet()) {
            if (!f) {
                sb.append(",");
            }
            f = false;
            str(sb, e.getKey());
            sb.append(":");
            str(sb, e.getValue());
        }
        sb.append("}");
    }

    static void strs(StringBuilder sb, String[] a) {
        sb.append("[");
        for (int i = 0; a != null && i < a.length; i++) {
            if (i > 0) {
                sb.append(",");
            }
            str(sb, a[i]);
        }
        sb.append("]");
    }

    static void str(StringBuilder sb, String s) {
        if (s == null) {
            sb.append("null");
            return;
        }
        sb.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }
}
