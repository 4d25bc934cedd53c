// Render.java: run Apache Flink's own native-Kubernetes client code offline and dump, as JSON, the
// Kubernetes objects it would create; used by scripts/native-compare to check kubectl-flink's
// native mode against Flink field by field.
//
// Adapted from ../shared/reference/flink-native/Render.java (same approach, batch + JSON output):
//   * The JobManager side goes through the real public client API
//     (KubernetesClusterDescriptor.deploySessionCluster / deployApplicationCluster), so
//     KubernetesJobManagerParameters, KubernetesJobManagerFactory and all of its decorators run
//     unchanged. The only stand-in is the FlinkKubeClient: a java.lang.reflect.Proxy that records the
//     KubernetesJobManagerSpecification passed to createJobManagerComponent() instead of sending it.
//   * What Fabric8FlinkKubeClient.createJobManagerComponent does next (create the Deployment, then put
//     one ownerReference to the *created* Deployment on every accompanying resource) is reproduced by
//     calling Flink's own private Fabric8FlinkKubeClient.setOwnerReference through reflection, on a
//     copy of the Deployment carrying the placeholder uid given in the case.
//   * The TaskManager side: the first TaskManager pod the JobManager would create, built by the real
//     KubernetesTaskManagerFactory.buildTaskManagerKubernetesPod from a flink-config ConfigMap (and a
//     pod-template ConfigMap) the way the JobManager pod sees them. This runs twice per case: once on
//     Flink's own ConfigMaps and once on kubectl-flink's, so the two JobManagers can be compared by
//     the TaskManager pods they would create.
//
// Usage (see scripts/native-compare):
//   FLINK_CONF_DIR=<scratch dir> _POD_IP_ADDRESS=10.0.0.10 \
//   java -cp <flink-dist + log4j jars>:<classes> Render --confdir DIR --cases cases.json
// cases.json: [{"name": "...", "mode": "session"|"application", "args": [...], "ownerUid": "...",
//               "out": "DIR", "kubectlFlink": "DIR" (optional: conf/ and pod-template/ subdirs),
//               "specPodTemplate": {"spec": "SPEC.yaml", "file": "FILE"} (optional)}]
// With specPodTemplate, FILE (the path the args pass as kubernetes.pod-template-file.taskmanager)
// is first written from SPEC.yaml's spec.taskManager.podTemplate as a v1 Pod: Flink's side gets the
// TaskManager pod template from the spec itself, never from kubectl-flink's rendering of it.
// Per case, DIR receives flink-objects.json (Deployment first, then the accompanying resources),
// flink-tm-pod.json, flink-config.json (the flink-config ConfigMap's configuration as Flink reads
// it), flink-pod-template.json (the pod-template ConfigMap's file as the Pod fabric8 parses, when
// there is one), and, with kubectlFlink, the kf-* counterparts. A failing case writes error.txt.

import org.apache.flink.client.cli.CliFrontendParser;
import org.apache.flink.client.cli.ExecutionConfigAccessor;
import org.apache.flink.client.cli.GenericCLI;
import org.apache.flink.client.cli.ProgramOptions;
import org.apache.flink.client.deployment.ClusterSpecification;
import org.apache.flink.client.deployment.application.ApplicationConfiguration;
import org.apache.flink.client.program.PackagedProgramUtils;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptionsInternal;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.configuration.JobManagerOptions;
import org.apache.flink.configuration.TaskManagerOptions;
import org.apache.flink.kubernetes.KubernetesClusterClientFactory;
import org.apache.flink.kubernetes.KubernetesClusterDescriptor;
import org.apache.flink.kubernetes.artifact.DefaultKubernetesArtifactUploader;
import org.apache.flink.kubernetes.cli.KubernetesSessionCli;
import org.apache.flink.kubernetes.configuration.KubernetesConfigOptions;
import org.apache.flink.kubernetes.entrypoint.KubernetesWorkerResourceSpecFactory;
import org.apache.flink.kubernetes.kubeclient.Fabric8FlinkKubeClient;
import org.apache.flink.kubernetes.kubeclient.FlinkKubeClient;
import org.apache.flink.kubernetes.kubeclient.FlinkKubeClientFactory;
import org.apache.flink.kubernetes.kubeclient.FlinkPod;
import org.apache.flink.kubernetes.kubeclient.KubernetesJobManagerSpecification;
import org.apache.flink.kubernetes.kubeclient.decorators.FlinkConfMountDecorator;
import org.apache.flink.kubernetes.kubeclient.factory.KubernetesTaskManagerFactory;
import org.apache.flink.kubernetes.kubeclient.parameters.KubernetesTaskManagerParameters;
import org.apache.flink.kubernetes.kubeclient.resources.KubernetesPod;
import org.apache.flink.kubernetes.shaded.io.fabric8.kubernetes.api.model.ConfigMap;
import org.apache.flink.kubernetes.shaded.io.fabric8.kubernetes.api.model.HasMetadata;
import org.apache.flink.kubernetes.shaded.io.fabric8.kubernetes.api.model.Pod;
import org.apache.flink.kubernetes.shaded.io.fabric8.kubernetes.api.model.apps.Deployment;
import org.apache.flink.kubernetes.shaded.io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import org.apache.flink.kubernetes.shaded.io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import org.apache.flink.kubernetes.shaded.io.fabric8.kubernetes.client.utils.Serialization;
import org.apache.flink.kubernetes.utils.Constants;
import org.apache.flink.runtime.clusterframework.BootstrapTools;
import org.apache.flink.runtime.clusterframework.ContaineredTaskManagerParameters;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessSpec;
import org.apache.flink.runtime.clusterframework.TaskExecutorProcessUtils;
import org.apache.flink.runtime.externalresource.ExternalResourceUtils;
import org.apache.flink.runtime.jobmanager.JobManagerProcessSpec;
import org.apache.flink.runtime.jobmanager.JobManagerProcessUtils;
import org.apache.flink.runtime.util.config.memory.ProcessMemoryUtils;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.JsonNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.SerializationFeature;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;

import java.io.ByteArrayInputStream;
import java.io.File;
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Stream;

public class Render {

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    /** Thrown by the recording FlinkKubeClient once the JobManager spec has been captured. */
    static final class StopAfterCapture extends RuntimeException {
        StopAfterCapture() {
            super("captured the JobManager specification; stopping before any cluster client is built");
        }
    }

    static KubernetesJobManagerSpecification captured;

    public static void main(String[] argv) throws Exception {
        String confDir = null, cases = null;
        for (int i = 0; i < argv.length; i++) {
            switch (argv[i]) {
                case "--confdir": confDir = argv[++i]; break;
                case "--cases": cases = argv[++i]; break;
                default: throw new IllegalArgumentException("unknown option " + argv[i]);
            }
        }
        if (confDir == null || cases == null) {
            throw new IllegalArgumentException("need --confdir DIR --cases FILE");
        }
        int failed = 0;
        for (JsonNode c : JSON.readTree(new File(cases))) {
            Path out = Paths.get(c.get("out").asText());
            Files.createDirectories(out);
            try {
                runCase(confDir, c, out);
            } catch (Throwable t) {
                failed++;
                StringWriter sw = new StringWriter();
                t.printStackTrace(new PrintWriter(sw));
                write(out.resolve("error.txt"), sw.toString());
                System.err.println("Render: case " + c.get("name").asText() + " failed: " + t);
            }
        }
        System.exit(failed == 0 ? 0 : 1);
    }

    static void runCase(String confDir, JsonNode c, Path out) throws Exception {
        String mode = c.get("mode").asText();
        String ownerUid = c.get("ownerUid").asText();
        List<String> argList = new ArrayList<>();
        c.get("args").forEach(a -> argList.add(a.asText()));
        String[] fargs = argList.toArray(new String[0]);
        if (c.hasNonNull("specPodTemplate")) {
            JsonNode t = c.get("specPodTemplate");
            writeSpecPodTemplate(Paths.get(t.get("spec").asText()), Paths.get(t.get("file").asText()));
        }

        // ---- 1. the effective client configuration, as the real CLI builds it ----
        Configuration base = GlobalConfiguration.loadConfiguration(confDir);
        final Configuration cfg;
        ApplicationConfiguration appConf = null;
        if (mode.equals("session")) {
            // kubernetes-session.sh -> KubernetesSessionCli.main -> run -> getEffectiveConfiguration(args)
            KubernetesSessionCli cli = new KubernetesSessionCli(base, confDir);
            Method gec = KubernetesSessionCli.class.getDeclaredMethod("getEffectiveConfiguration", String[].class);
            gec.setAccessible(true);
            cfg = (Configuration) invoke(gec, cli, (Object) fargs);
        } else if (mode.equals("application")) {
            // `flink run --target kubernetes-application ...` -> CliFrontend.run: GenericCLI is the active
            // custom command line; ProgramOptions -> ExecutionConfigAccessor; ApplicationConfiguration.
            GenericCLI generic = new GenericCLI(base, confDir);
            Options custom = new Options();
            generic.addGeneralOptions(custom);
            generic.addRunOptions(custom);
            Options opts = CliFrontendParser.mergeOptions(CliFrontendParser.getRunCommandOptions(), custom);
            CommandLine cmd = CliFrontendParser.parse(opts, fargs, true);
            if (!generic.isActive(cmd)) {
                throw new IllegalArgumentException("no deployment target: pass --target kubernetes-application");
            }
            cfg = new Configuration(base);
            cfg.addAll(generic.toConfiguration(cmd));
            ProgramOptions po = ProgramOptions.create(cmd);
            po.validate();
            URI jarUri = PackagedProgramUtils.resolveURI(po.getJarFilePath());
            ExecutionConfigAccessor.fromProgramOptions(po, Collections.singletonList(jarUri.toString()))
                    .applyToConfiguration(cfg);
            appConf = new ApplicationConfiguration(po.getProgramArgs(), po.getEntryPointClassName());
        } else {
            throw new IllegalArgumentException("mode must be session or application");
        }

        // ---- 2. deploy through the real KubernetesClusterDescriptor with a recording kube client ----
        captured = null;
        KubernetesClusterClientFactory clientFactory = new KubernetesClusterClientFactory();
        ClusterSpecification spec = clientFactory.getClusterSpecification(cfg);
        KubernetesClusterDescriptor descriptor =
                new KubernetesClusterDescriptor(cfg, new RecordingKubeClientFactory(), new DefaultKubernetesArtifactUploader());
        try {
            if (appConf == null) {
                descriptor.deploySessionCluster(spec);
            } else {
                descriptor.deployApplicationCluster(spec, appConf);
            }
            throw new IllegalStateException("deploy returned without reaching the recording client");
        } catch (Throwable t) {
            if (!causedBy(t, StopAfterCapture.class) || captured == null) {
                throw t;
            }
        }

        // ---- 3. what Fabric8FlinkKubeClient.createJobManagerComponent does after create(deployment) ----
        Deployment deployment = captured.getDeployment();
        List<HasMetadata> accompanying = captured.getAccompanyingResources();
        String deploymentJson = Serialization.asJson(deployment); // as sent: before any server-side fields
        Deployment createdDeployment =
                new DeploymentBuilder(deployment).editMetadata().withUid(ownerUid).endMetadata().build();
        ScheduledExecutorService exec = Executors.newSingleThreadScheduledExecutor();
        try {
            Fabric8FlinkKubeClient realClient = new Fabric8FlinkKubeClient(cfg, nullNamespacedClient(), exec);
            Method setOwner = Fabric8FlinkKubeClient.class.getDeclaredMethod("setOwnerReference", Deployment.class, List.class);
            setOwner.setAccessible(true);
            invoke(setOwner, realClient, createdDeployment, accompanying);

            StringBuilder objects = new StringBuilder("[\n").append(deploymentJson);
            for (HasMetadata r : accompanying) {
                objects.append(",\n").append(Serialization.asJson(r));
            }
            write(out.resolve("flink-objects.json"), objects.append("\n]\n").toString());

            // ---- 4. the first TaskManager pod, from Flink's ConfigMaps and from kubectl-flink's ----
            String clusterId = cfg.get(KubernetesConfigOptions.CLUSTER_ID);
            Map<String, String> conf = configMapData(accompanying, FlinkConfMountDecorator.getFlinkConfConfigMapName(clusterId));
            if (conf == null) {
                throw new IllegalStateException("no flink-config ConfigMap among the rendered resources");
            }
            Map<String, String> template = configMapData(accompanying, "pod-template-" + clusterId);
            taskManager(conf, template, ownerUid, realClient, setOwner, out, "flink");
            if (c.hasNonNull("kubectlFlink")) {
                Path kf = Paths.get(c.get("kubectlFlink").asText());
                taskManager(readDir(kf.resolve("conf")), readDir(kf.resolve("pod-template")), ownerUid, realClient, setOwner, out, "kf");
            }
        } finally {
            exec.shutdownNow();
        }
    }

    /**
     * The TaskManager pod template file a user of Flink's client would write for this spec: the
     * spec's {@code spec.taskManager.podTemplate}, read with Flink's (shaded) Jackson YAML parser, as
     * a v1 Pod. Independent of kubectl-flink on purpose: comparing Flink's TaskManager pod built from
     * this file with the one built from kubectl-flink's ConfigMap is what tests the translation.
     */
    static void writeSpecPodTemplate(Path spec, Path file) throws Exception {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        JsonNode template = yaml.readTree(spec.toFile()).at("/spec/taskManager/podTemplate");
        if (!template.isObject()) {
            throw new IllegalArgumentException(spec + ": the args use {pod_template} but spec.taskManager.podTemplate is not a mapping");
        }
        ObjectNode pod = yaml.createObjectNode().put("apiVersion", "v1").put("kind", "Pod");
        pod.setAll((ObjectNode) template);
        Files.createDirectories(file.getParent());
        yaml.writeValue(file.toFile(), pod);
    }

    static Map<String, String> configMapData(List<HasMetadata> resources, String name) {
        for (HasMetadata r : resources) {
            if (r instanceof ConfigMap && name.equals(r.getMetadata().getName())) {
                return ((ConfigMap) r).getData();
            }
        }
        return null;
    }

    static Map<String, String> readDir(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return null;
        }
        Map<String, String> data = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                data.put(f.getFileName().toString(), new String(Files.readAllBytes(f), StandardCharsets.UTF_8));
            }
        }
        return data;
    }

    /**
     * The TaskManager pod a JobManager would create when its /opt/flink/conf holds {@code conf} and its
     * /opt/flink/pod-template holds {@code template}; writes {prefix}-tm-pod.json and {prefix}-config.json.
     */
    static void taskManager(Map<String, String> conf, Map<String, String> template, String ownerUid,
                            Fabric8FlinkKubeClient realClient, Method setOwner, Path out, String prefix) throws Exception {
        // The JM pod mounts the flink-config-<cluster-id> ConfigMap at $FLINK_CONF_DIR (/opt/flink/conf):
        // a scratch directory stands in for it (KubernetesEntrypointUtils reads the variable).
        String confDirInPod = System.getenv("FLINK_CONF_DIR");
        if (confDirInPod == null) {
            throw new IllegalStateException("FLINK_CONF_DIR must name a scratch directory (it stands for the JM pod's /opt/flink/conf)");
        }
        Path podConfDir = Paths.get(confDirInPod);
        deleteTree(podConfDir);
        Files.createDirectories(podConfDir);
        for (Map.Entry<String, String> e : conf.entrySet()) {
            Files.write(podConfDir.resolve(e.getKey()), e.getValue().getBytes(StandardCharsets.UTF_8));
        }
        // GlobalConfiguration.loadConfiguration() in AbstractResourceManagerDriver's constructor (flinkClientConfig).
        Configuration flinkClientConfig = GlobalConfiguration.loadConfiguration(confDirInPod);
        JSON.writeValue(out.resolve(prefix + "-config.json").toFile(), new TreeMap<>(flinkClientConfig.toMap()));
        String clusterId = flinkClientConfig.get(KubernetesConfigOptions.CLUSTER_ID);

        // kubernetes-jobmanager.sh: BashJavaUtils GET_JM_RESOURCE_PARAMS -> "-D k=v ..." dynamic configs.
        JobManagerProcessSpec jmSpec = jobManagerProcessSpec(flinkClientConfig);
        String jmDynamic = JobManagerProcessUtils.generateDynamicConfigsStr(jmSpec);
        Configuration jmDynamicConf = parseDynamicConfigs(jmDynamic);

        // Kubernetes{Session,Application}ClusterEntrypoint -> KubernetesEntrypointUtils.loadConfiguration(dynamicProperties)
        Class<?> keu = Class.forName("org.apache.flink.kubernetes.entrypoint.KubernetesEntrypointUtils");
        Method load = keu.getDeclaredMethod("loadConfiguration", Configuration.class);
        load.setAccessible(true);
        Configuration flinkConfig = (Configuration) invoke(load, null, jmDynamicConf);
        // ClusterEntrypoint.initializeServices writes the RPC service's address/port back into the configuration.
        flinkConfig.set(JobManagerOptions.ADDRESS, flinkConfig.get(JobManagerOptions.ADDRESS));
        flinkConfig.set(JobManagerOptions.PORT, flinkConfig.get(JobManagerOptions.PORT));

        // ActiveResourceManager: default WorkerResourceSpec -> TaskExecutorProcessSpec -> driver.requestResource(spec)
        TaskExecutorProcessSpec tmSpec = TaskExecutorProcessUtils.processSpecFromWorkerResourceSpec(
                flinkConfig, KubernetesWorkerResourceSpecFactory.INSTANCE.createDefaultWorkerResourceSpec(flinkConfig));

        // KubernetesResourceManagerDriver.createKubernetesTaskManagerParameters: first pod of attempt 1.
        String podName = String.format("%s-taskmanager-%d-%d", clusterId, 1L, 1L);
        ContaineredTaskManagerParameters ctmp = ContaineredTaskManagerParameters.create(flinkConfig, tmSpec);
        Configuration taskManagerConfig = new Configuration(flinkConfig);
        taskManagerConfig.set(TaskManagerOptions.TASK_MANAGER_RESOURCE_ID, podName);
        String dynamicProperties = BootstrapTools.getDynamicPropertiesAsString(flinkClientConfig, taskManagerConfig);
        String jvmMemOpts = ProcessMemoryUtils.generateJvmParametersStr(tmSpec);
        // In the JM pod, the log config files are looked up in the mounted conf dir.
        Configuration paramsConfig = new Configuration(flinkConfig);
        paramsConfig.set(DeploymentOptionsInternal.CONF_DIR, confDirInPod);
        KubernetesTaskManagerParameters tmParams = new KubernetesTaskManagerParameters(
                paramsConfig, podName, dynamicProperties, jvmMemOpts, ctmp,
                ExternalResourceUtils.getExternalResourceConfigurationKeys(
                        flinkConfig, KubernetesConfigOptions.EXTERNAL_RESOURCE_KUBERNETES_CONFIG_KEY_SUFFIX),
                Collections.emptySet());

        // KubernetesResourceManagerDriver.initializeInternal: the TM pod template is
        // /opt/flink/pod-template/taskmanager-pod-template.yaml if that file exists in the JM pod.
        FlinkPod podTemplate = new FlinkPod.Builder().build();
        if (template != null && template.containsKey(Constants.TASK_MANAGER_POD_TEMPLATE_FILE_NAME)) {
            Path dir = podConfDir.resolveSibling(podConfDir.getFileName() + "-pod-template");
            deleteTree(dir);
            Files.createDirectories(dir);
            Path file = dir.resolve(Constants.TASK_MANAGER_POD_TEMPLATE_FILE_NAME);
            Files.write(file, template.get(Constants.TASK_MANAGER_POD_TEMPLATE_FILE_NAME).getBytes(StandardCharsets.UTF_8));
            podTemplate = loadPodTemplate(file.toFile());
            // The file as the Pod it parses to, for comparing the pod-template ConfigMaps as data.
            Pod parsed = Serialization.unmarshal(new ByteArrayInputStream(Files.readAllBytes(file)), Pod.class);
            write(out.resolve(prefix + "-pod-template.json"), Serialization.asJson(parsed) + "\n");
        }
        KubernetesPod pod = KubernetesTaskManagerFactory.buildTaskManagerKubernetesPod(podTemplate, tmParams);

        // Fabric8FlinkKubeClient.createTaskManagerPod: setOwnerReference(masterDeployment, [pod]) then create(pod),
        // the JobManager's own Deployment (named after the cluster id) being the owner.
        Deployment owner = new DeploymentBuilder().withNewMetadata().withName(clusterId).withUid(ownerUid).endMetadata().build();
        invoke(setOwner, realClient, owner, Collections.singletonList(pod.getInternalResource()));
        write(out.resolve(prefix + "-tm-pod.json"), Serialization.asJson(pod.getInternalResource()) + "\n");
    }

    /** JobManagerProcessUtils.processSpecFromConfig (package-private in 1.x, public in 2.x). */
    static JobManagerProcessSpec jobManagerProcessSpec(Configuration config) throws Exception {
        try {
            Method m = JobManagerProcessUtils.class.getDeclaredMethod("processSpecFromConfig", Configuration.class);
            m.setAccessible(true);
            return (JobManagerProcessSpec) invoke(m, null, config);
        } catch (NoSuchMethodException e) {
            Method m = JobManagerProcessUtils.class.getMethod(
                    "processSpecFromConfigWithNewOptionToInterpretLegacyHeap",
                    Configuration.class, org.apache.flink.configuration.ConfigOption.class);
            return (JobManagerProcessSpec) invoke(m, null, config, JobManagerOptions.JVM_HEAP_MEMORY);
        }
    }

    static FlinkPod loadPodTemplate(File file) throws Exception {
        Method m = Class.forName("org.apache.flink.kubernetes.utils.KubernetesUtils")
                .getMethod("loadPodFromTemplateFile", FlinkKubeClient.class, File.class, String.class);
        return (FlinkPod) invoke(m, null, recordingClient(), file, Constants.MAIN_CONTAINER_NAME);
    }

    static Configuration parseDynamicConfigs(String s) {
        Configuration c = new Configuration();
        String[] tok = s.trim().split("\\s+");
        for (int i = 0; i < tok.length; i++) {
            String t = tok[i];
            if (t.equals("-D") && i + 1 < tok.length) {
                t = tok[++i];
            } else if (t.startsWith("-D")) {
                t = t.substring(2);
            } else {
                continue;
            }
            int eq = t.indexOf('=');
            c.setString(t.substring(0, eq), t.substring(eq + 1));
        }
        return c;
    }

    /** FlinkKubeClientFactory whose clients record instead of talking to a cluster. */
    static final class RecordingKubeClientFactory extends FlinkKubeClientFactory {
        @Override
        public FlinkKubeClient fromConfiguration(Configuration flinkConfig, String useCase) {
            return recordingClient();
        }
    }

    static FlinkKubeClient recordingClient() {
        return (FlinkKubeClient) Proxy.newProxyInstance(
                Render.class.getClassLoader(),
                new Class<?>[] {FlinkKubeClient.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "createJobManagerComponent":
                            captured = (KubernetesJobManagerSpecification) args[0];
                            return null;
                        case "getService":
                            return Optional.empty(); // "no such cluster yet" (deployApplicationCluster checks this)
                        case "getRestEndpoint":
                            throw new StopAfterCapture(); // reached from ClusterClientProvider.getClusterClient()
                        case "loadPodFromTemplateFile":
                            // Fabric8FlinkKubeClient: new KubernetesPod(internalClient.pods().load(file).item())
                            try (InputStream in = new FileInputStream((File) args[0])) {
                                return new KubernetesPod(Serialization.unmarshal(in, Pod.class));
                            }
                        case "createTaskManagerPod":
                            return CompletableFuture.completedFuture(null);
                        case "close":
                            return null;
                        case "toString":
                            return "RecordingFlinkKubeClient";
                        case "hashCode":
                            return System.identityHashCode(proxy);
                        case "equals":
                            return proxy == args[0];
                        default:
                            throw new UnsupportedOperationException("offline FlinkKubeClient: " + method.getName());
                    }
                });
    }

    /** Fabric8FlinkKubeClient's constructor only null-checks the fabric8 client; setOwnerReference never uses it. */
    static NamespacedKubernetesClient nullNamespacedClient() {
        return (NamespacedKubernetesClient) Proxy.newProxyInstance(
                Render.class.getClassLoader(),
                new Class<?>[] {NamespacedKubernetesClient.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("close")) {
                        return null;
                    }
                    throw new UnsupportedOperationException("offline fabric8 client: " + method.getName());
                });
    }

    static Object invoke(Method m, Object target, Object... args) throws Exception {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof Exception) {
                throw (Exception) c;
            }
            throw e;
        }
    }

    static boolean causedBy(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    static void deleteTree(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    static void write(Path p, String content) throws Exception {
        if (p.getParent() != null) {
            Files.createDirectories(p.getParent());
        }
        Files.write(p, content.getBytes(StandardCharsets.UTF_8));
    }
}
