/// The protobuf field numbers of the built-in kinds `kubectl create <kind>` sends as protobuf
/// (namespace, configmap, secret, serviceaccount, deployment, job (also `--from=cronjob/…`), cronjob,
/// role, clusterrole, rolebinding, clusterrolebinding), from Kubernetes' `generated.proto` files; field names are the JSON names.
///
/// One line per field: `<number> <name> <type>`. The type is `string` (the default), `bytes`, `int`,
/// `bool`, `Time`, `Quantity`, `IntOrString`, `map` (string to string), `bytesmap`, `quantitymap`,
/// or a message name; `[T]` is a repeated field. A `?` after the type marks a Go pointer, whose
/// zero value is still a value (`replicas: 0`); other zero values are dropped, as Go's JSON
/// encoder drops them. A `^` before the name marks an embedded struct, inlined in JSON.
enum KubeProtobufSchema {
    /// The Kubernetes kinds this schema decodes, keyed by "apiVersion/kind".
    static let kinds: [String: String] = [
        "v1/Namespace": "Namespace", "v1/ConfigMap": "ConfigMap", "v1/Secret": "Secret",
        "v1/ServiceAccount": "ServiceAccount", "apps/v1/Deployment": "Deployment", "batch/v1/Job": "Job", "batch/v1/CronJob": "CronJob",
        "rbac.authorization.k8s.io/v1/Role": "Role", "rbac.authorization.k8s.io/v1/ClusterRole": "ClusterRole",
        "rbac.authorization.k8s.io/v1/RoleBinding": "RoleBinding",
        "rbac.authorization.k8s.io/v1/ClusterRoleBinding": "ClusterRoleBinding",
    ]

    static let source: [String: String] = [
        // k8s.io/apimachinery/pkg/apis/meta/v1
        "ObjectMeta": """
        1 name; 2 generateName; 3 namespace; 4 selfLink; 5 uid; 6 resourceVersion; 7 generation int; \
        8 creationTimestamp Time; 9 deletionTimestamp Time; 10 deletionGracePeriodSeconds int?; 11 labels map; \
        12 annotations map; 13 ownerReferences [OwnerReference]; 14 finalizers [string]
        """,
        "OwnerReference": "5 apiVersion; 1 kind; 3 name; 4 uid; 6 controller bool?; 7 blockOwnerDeletion bool?",
        "LabelSelector": "1 matchLabels map; 2 matchExpressions [LabelSelectorRequirement]",
        "LabelSelectorRequirement": "1 key; 2 operator; 3 values [string]",
        // k8s.io/api/core/v1
        "Namespace": "1 metadata ObjectMeta; 2 spec NamespaceSpec; 3 status NamespaceStatus",
        "NamespaceSpec": "1 finalizers [string]",
        "NamespaceStatus": "1 phase",
        "ConfigMap": "1 metadata ObjectMeta; 2 data map; 3 binaryData bytesmap; 4 immutable bool?",
        "Secret": "1 metadata ObjectMeta; 2 data bytesmap; 3 type; 4 stringData map; 5 immutable bool?",
        "ServiceAccount": """
        1 metadata ObjectMeta; 2 secrets [ObjectReference]; 3 imagePullSecrets [LocalObjectReference]; \
        4 automountServiceAccountToken bool?
        """,
        "ObjectReference": "1 kind; 2 namespace; 3 name; 4 uid; 5 apiVersion; 6 resourceVersion; 7 fieldPath",
        "LocalObjectReference": "1 name",
        "PodTemplateSpec": "1 metadata ObjectMeta; 2 spec PodSpec",
        "PodSpec": """
        1 volumes [Volume]; 2 containers [Container]; 20 initContainers [Container]; 3 restartPolicy; \
        4 terminationGracePeriodSeconds int?; 5 activeDeadlineSeconds int?; 6 dnsPolicy; 7 nodeSelector map; \
        8 serviceAccountName; 9 serviceAccount; 21 automountServiceAccountToken bool?; 10 nodeName; \
        11 hostNetwork bool; 12 hostPID bool; 13 hostIPC bool; 27 shareProcessNamespace bool?; \
        14 securityContext PodSecurityContext?; 15 imagePullSecrets [LocalObjectReference]; 16 hostname; \
        17 subdomain; 19 schedulerName; 22 tolerations [Toleration]; 24 priorityClassName; 25 priority int?; \
        29 runtimeClassName?; 30 enableServiceLinks bool?; 31 preemptionPolicy?; 35 setHostnameAsFQDN bool?; \
        37 hostUsers bool?
        """,
        "Container": """
        1 name; 2 image; 3 command [string]; 4 args [string]; 5 workingDir; 6 ports [ContainerPort]; \
        19 envFrom [EnvFromSource]; 7 env [EnvVar]; 8 resources ResourceRequirements; 24 restartPolicy?; \
        9 volumeMounts [VolumeMount]; 10 livenessProbe Probe?; 11 readinessProbe Probe?; 22 startupProbe Probe?; \
        13 terminationMessagePath; 20 terminationMessagePolicy; 14 imagePullPolicy; \
        15 securityContext SecurityContext?; 16 stdin bool; 17 stdinOnce bool; 18 tty bool
        """,
        // The volume sources a pod of this tool's manifests uses; any other is refused by name.
        "Volume": "1 name; 2 ^volumeSource VolumeSource",
        "VolumeSource": """
        1 hostPath HostPathVolumeSource?; 2 emptyDir EmptyDirVolumeSource?; 6 secret SecretVolumeSource?; \
        10 persistentVolumeClaim PersistentVolumeClaimVolumeSource?; 19 configMap ConfigMapVolumeSource?
        """,
        "HostPathVolumeSource": "1 path; 2 type?",
        "EmptyDirVolumeSource": "1 medium; 2 sizeLimit Quantity?",
        "SecretVolumeSource": "1 secretName; 2 items [KeyToPath]; 3 defaultMode int?; 4 optional bool?",
        "ConfigMapVolumeSource": "1 ^localObjectReference LocalObjectReference; 2 items [KeyToPath]; 3 defaultMode int?; 4 optional bool?",
        "KeyToPath": "1 key; 2 path; 3 mode int?",
        "PersistentVolumeClaimVolumeSource": "1 claimName; 2 readOnly bool",
        "ContainerPort": "1 name; 2 hostPort int; 3 containerPort int; 4 protocol; 5 hostIP",
        "EnvVar": "1 name; 2 value; 3 valueFrom EnvVarSource?",
        "EnvVarSource": """
        1 fieldRef ObjectFieldSelector?; 2 resourceFieldRef ResourceFieldSelector?; \
        3 configMapKeyRef ConfigMapKeySelector?; 4 secretKeyRef SecretKeySelector?
        """,
        "ObjectFieldSelector": "1 apiVersion; 2 fieldPath",
        "ResourceFieldSelector": "1 containerName; 2 resource; 3 divisor Quantity",
        "ConfigMapKeySelector": "1 ^localObjectReference LocalObjectReference; 2 key; 3 optional bool?",
        "SecretKeySelector": "1 ^localObjectReference LocalObjectReference; 2 key; 3 optional bool?",
        "EnvFromSource": "1 prefix; 2 configMapRef ConfigMapEnvSource?; 3 secretRef SecretEnvSource?",
        "ConfigMapEnvSource": "1 ^localObjectReference LocalObjectReference; 2 optional bool?",
        "SecretEnvSource": "1 ^localObjectReference LocalObjectReference; 2 optional bool?",
        "ResourceRequirements": "1 limits quantitymap; 2 requests quantitymap",
        "VolumeMount": "1 name; 2 readOnly bool; 3 mountPath; 4 subPath; 5 mountPropagation?; 6 subPathExpr; 7 recursiveReadOnly?",
        "Probe": """
        1 ^handler ProbeHandler; 2 initialDelaySeconds int; 3 timeoutSeconds int; 4 periodSeconds int; \
        5 successThreshold int; 6 failureThreshold int; 7 terminationGracePeriodSeconds int?
        """,
        "ProbeHandler": "1 exec ExecAction?; 2 httpGet HTTPGetAction?; 3 tcpSocket TCPSocketAction?",
        "ExecAction": "1 command [string]",
        "HTTPGetAction": "1 path; 2 port IntOrString; 3 host; 4 scheme",
        "TCPSocketAction": "1 port IntOrString; 2 host",
        "Toleration": "1 key; 2 operator; 3 value; 4 effect; 5 tolerationSeconds int?",
        "PodSecurityContext": """
        2 runAsUser int?; 6 runAsGroup int?; 3 runAsNonRoot bool?; 4 supplementalGroups [int]; 5 fsGroup int?; \
        9 fsGroupChangePolicy?; 10 seccompProfile SeccompProfile?
        """,
        "SeccompProfile": "1 type; 2 localhostProfile?",
        "SecurityContext": """
        1 capabilities Capabilities?; 2 privileged bool?; 4 runAsUser int?; 8 runAsGroup int?; 5 runAsNonRoot bool?; \
        6 readOnlyRootFilesystem bool?; 7 allowPrivilegeEscalation bool?; 11 seccompProfile SeccompProfile?
        """,
        "Capabilities": "1 add [string]; 2 drop [string]",
        // k8s.io/api/apps/v1
        "Deployment": "1 metadata ObjectMeta; 2 spec DeploymentSpec; 3 status DeploymentStatus",
        "DeploymentSpec": """
        1 replicas int?; 2 selector LabelSelector?; 3 template PodTemplateSpec; 4 strategy DeploymentStrategy; \
        5 minReadySeconds int; 6 revisionHistoryLimit int?; 7 paused bool; 9 progressDeadlineSeconds int?
        """,
        "DeploymentStrategy": "1 type; 2 rollingUpdate RollingUpdateDeployment?",
        "RollingUpdateDeployment": "1 maxUnavailable IntOrString?; 2 maxSurge IntOrString?",
        // Status is the server's to write: what a client sends is dropped on create anyway.
        "DeploymentStatus": "",
        // k8s.io/api/batch/v1
        "Job": "1 metadata ObjectMeta; 2 spec JobSpec; 3 status JobStatus",
        "JobSpec": """
        1 parallelism int?; 2 completions int?; 3 activeDeadlineSeconds int?; 7 backoffLimit int?; \
        12 backoffLimitPerIndex int?; 13 maxFailedIndexes int?; 4 selector LabelSelector?; 5 manualSelector bool?; \
        6 template PodTemplateSpec; 8 ttlSecondsAfterFinished int?; 9 completionMode?; 10 suspend bool?; \
        14 podReplacementPolicy?; 15 managedBy?
        """,
        "JobStatus": "",
        "CronJob": "1 metadata ObjectMeta; 2 spec CronJobSpec; 3 status CronJobStatus",
        "CronJobSpec": """
        1 schedule; 8 timeZone?; 2 startingDeadlineSeconds int?; 3 concurrencyPolicy; 4 suspend bool?; \
        5 jobTemplate JobTemplateSpec; 6 successfulJobsHistoryLimit int?; 7 failedJobsHistoryLimit int?
        """,
        "JobTemplateSpec": "1 metadata ObjectMeta; 2 spec JobSpec",
        "CronJobStatus": "",
        // k8s.io/api/rbac/v1
        "Role": "1 metadata ObjectMeta; 2 rules [PolicyRule]",
        "ClusterRole": "1 metadata ObjectMeta; 2 rules [PolicyRule]; 3 aggregationRule AggregationRule?",
        "AggregationRule": "1 clusterRoleSelectors [LabelSelector]",
        "PolicyRule": "1 verbs [string]; 2 apiGroups [string]; 3 resources [string]; 4 resourceNames [string]; 5 nonResourceURLs [string]",
        "RoleBinding": "1 metadata ObjectMeta; 2 subjects [Subject]; 3 roleRef RoleRef",
        "ClusterRoleBinding": "1 metadata ObjectMeta; 2 subjects [Subject]; 3 roleRef RoleRef",
        "Subject": "1 kind; 2 apiGroup; 3 name; 4 namespace",
        "RoleRef": "1 apiGroup; 2 kind; 3 name",
    ]

    struct Field: Sendable, Equatable {
        indirect enum Kind: Sendable, Equatable {
            case string, bytes, int, bool, time, quantity, intOrString
            case map(Kind)
            case message(String)
        }
        var name: String
        var kind: Kind
        var repeated: Bool
        var pointer: Bool
        var inline: Bool
    }

    /// The parsed tables: message name → field number → field.
    static let messages: [String: [Int: Field]] = source.mapValues { parse($0) }

    static func parse(_ text: String) -> [Int: Field] {
        var fields: [Int: Field] = [:]
        for entry in text.split(separator: ";") {
            let words = entry.split(separator: " ").map(String.init)
            guard words.count >= 2, let number = Int(words[0]) else { continue }
            var type = words.count > 2 ? words[2] : "string"
            let pointer = type.hasSuffix("?") || (words.count == 2 && words[1].hasSuffix("?"))
            var name = words[1]
            if name.hasSuffix("?") { name.removeLast() }
            if type.hasSuffix("?") { type.removeLast() }
            let inline = name.hasPrefix("^")
            if inline { name.removeFirst() }
            let repeated = type.hasPrefix("[") && type.hasSuffix("]")
            if repeated { type = String(type.dropFirst().dropLast()) }
            fields[number] = Field(name: name, kind: kind(type), repeated: repeated, pointer: pointer, inline: inline)
        }
        return fields
    }

    private static func kind(_ type: String) -> Field.Kind {
        switch type {
        case "string": .string
        case "bytes": .bytes
        case "int": .int
        case "bool": .bool
        case "Time": .time
        case "Quantity": .quantity
        case "IntOrString": .intOrString
        case "map": .map(.string)
        case "bytesmap": .map(.bytes)
        case "quantitymap": .map(.quantity)
        default: .message(type)
        }
    }
}
