import Foundation

/// The patch metadata strategic merge patch needs: which lists merge (and on which key) and which
/// replace. Kubernetes keeps this in `patchStrategy`/`patchMergeKey` struct tags; this is the same
/// information, taken from `k8s.io/api` (core/v1, apps/v1, batch/v1) and `k8s.io/apimachinery`
/// (ObjectMeta), for the kinds and fields a cluster simulator needs.
///
/// Fields not listed behave as untagged Go fields: maps merge recursively, lists are replaced.
public struct StrategicMergeSchema: Sendable, Hashable {
    /// How a field's value is patched.
    public struct Field: Sendable, Hashable {
        /// `patchStrategy:"merge"`: the list merges element by element instead of being replaced.
        public var mergesList: Bool
        /// `patchMergeKey`: the element field identifying list items; nil for lists of primitives.
        public var mergeKey: String?
        /// `patchStrategy:"retainKeys"` (informational: `$retainKeys` is honoured wherever it appears,
        /// as the apiserver does).
        public var retainKeys: Bool
        /// The schema of the value (for maps) or of each element (for lists).
        public var schema: StrategicMergeSchema?

        public init(
            mergesList: Bool = false, mergeKey: String? = nil, retainKeys: Bool = false,
            schema: StrategicMergeSchema? = nil
        ) {
            self.mergesList = mergesList
            self.mergeKey = mergeKey
            self.retainKeys = retainKeys
            self.schema = schema
        }

        /// A list merged on `key` (`patchStrategy:"merge" patchMergeKey:"key"`).
        public static func mergeList(on key: String, retainKeys: Bool = false, element: StrategicMergeSchema? = nil)
            -> Field
        {
            Field(mergesList: true, mergeKey: key, retainKeys: retainKeys, schema: element)
        }

        /// A list of primitives with set-like merge semantics (e.g. `metadata.finalizers`).
        public static let mergePrimitives = Field(mergesList: true)

        /// A nested object with its own schema.
        public static func object(_ schema: StrategicMergeSchema, retainKeys: Bool = false) -> Field {
            Field(retainKeys: retainKeys, schema: schema)
        }
    }

    public var fields: [String: Field]

    public init(fields: [String: Field] = [:]) {
        self.fields = fields
    }

    public subscript(field: String) -> Field? { fields[field] }

    // MARK: - Built-in types

    public static let objectMeta = StrategicMergeSchema(fields: [
        "finalizers": .mergePrimitives,
        "ownerReferences": .mergeList(on: "uid"),
    ])

    public static let container = StrategicMergeSchema(fields: [
        "ports": .mergeList(on: "containerPort"),
        "env": .mergeList(on: "name"),
        "volumeMounts": .mergeList(on: "mountPath"),
        "volumeDevices": .mergeList(on: "devicePath"),
    ])

    public static let podSpec = StrategicMergeSchema(fields: [
        "volumes": .mergeList(on: "name", retainKeys: true),
        "initContainers": .mergeList(on: "name", element: container),
        "containers": .mergeList(on: "name", element: container),
        "ephemeralContainers": .mergeList(on: "name", element: container),
        "imagePullSecrets": .mergeList(on: "name"),
        "hostAliases": .mergeList(on: "ip"),
        "topologySpreadConstraints": .mergeList(on: "topologyKey"),
        "schedulingGates": .mergeList(on: "name"),
        "resourceClaims": .mergeList(on: "name", retainKeys: true),
    ])

    static let containerStatus = StrategicMergeSchema(fields: [
        "volumeMounts": .mergeList(on: "mountPath"),
        "allocatedResourcesStatus": .mergeList(on: "name"),
    ])

    public static let podStatus = StrategicMergeSchema(fields: [
        "conditions": .mergeList(on: "type"),
        "hostIPs": .mergeList(on: "ip"),
        "podIPs": .mergeList(on: "ip"),
        "resourceClaimStatuses": .mergeList(on: "name", retainKeys: true),
        "nodeAllocatableResourceClaimStatuses": .mergeList(on: "resourceClaimName"),
    ])

    public static let podTemplateSpec = StrategicMergeSchema(fields: [
        "metadata": .object(objectMeta),
        "spec": .object(podSpec),
    ])

    /// Status blocks whose only tagged field is `conditions` merged on `type`.
    static let conditionsStatus = StrategicMergeSchema(fields: ["conditions": .mergeList(on: "type")])

    /// A kind with metadata, a spec and a status.
    static func kind(spec: StrategicMergeSchema? = nil, status: StrategicMergeSchema? = nil, extra: [String: Field] = [:])
        -> StrategicMergeSchema
    {
        var fields = extra
        fields["metadata"] = .object(objectMeta)
        if let spec { fields["spec"] = .object(spec) }
        if let status { fields["status"] = .object(status) }
        return StrategicMergeSchema(fields: fields)
    }

    static let workloadSpec = StrategicMergeSchema(fields: ["template": .object(podTemplateSpec)])

    public static let pod = kind(spec: podSpec, status: podStatus)
    public static let podTemplate = kind(extra: ["template": .object(podTemplateSpec)])
    public static let deployment = kind(
        spec: StrategicMergeSchema(fields: [
            "template": .object(podTemplateSpec),
            "strategy": .object(StrategicMergeSchema(), retainKeys: true),
        ]),
        status: conditionsStatus)
    public static let statefulSet = kind(spec: workloadSpec, status: conditionsStatus)
    public static let daemonSet = kind(spec: workloadSpec, status: conditionsStatus)
    public static let replicaSet = kind(spec: workloadSpec, status: conditionsStatus)
    public static let replicationController = kind(spec: workloadSpec, status: conditionsStatus)
    public static let job = kind(spec: workloadSpec, status: conditionsStatus)
    public static let cronJob = kind(
        spec: StrategicMergeSchema(fields: [
            "jobTemplate": .object(
                StrategicMergeSchema(fields: ["metadata": .object(objectMeta), "spec": .object(workloadSpec)]))
        ]))
    public static let service = kind(
        spec: StrategicMergeSchema(fields: ["ports": .mergeList(on: "port")]), status: conditionsStatus)
    public static let serviceAccount = kind(extra: ["secrets": .mergeList(on: "name")])
    public static let node = kind(
        spec: StrategicMergeSchema(fields: ["podCIDRs": .mergePrimitives]),
        status: StrategicMergeSchema(fields: [
            "conditions": .mergeList(on: "type"), "addresses": .mergeList(on: "type"),
        ]))
    public static let namespace = kind(status: conditionsStatus)
    public static let persistentVolumeClaim = kind(status: conditionsStatus)
    /// Any other built-in kind: only `metadata` carries patch tags.
    public static let genericObject = kind()

    /// API groups served by the apiserver itself, where strategic merge patch is accepted.
    /// Custom resources (any other group) answer 415 to it.
    public static let builtInGroups: Set<String> = [
        "", "apps", "batch", "autoscaling", "policy", "storage.k8s.io", "networking.k8s.io", "rbac.authorization.k8s.io",
        "coordination.k8s.io", "scheduling.k8s.io", "events.k8s.io", "discovery.k8s.io", "node.k8s.io",
        "certificates.k8s.io", "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
        "flowcontrol.apiserver.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "resource.k8s.io",
    ]

    /// The schema for a built-in kind, or nil when the group is not built in (a custom resource:
    /// the simulator should answer 415 to a strategic merge patch).
    public static func builtIn(group: String, kind: String) -> StrategicMergeSchema? {
        guard builtInGroups.contains(group) else { return nil }
        switch (group, kind) {
        case ("", "Pod"): return pod
        case ("", "PodTemplate"): return podTemplate
        case ("", "ReplicationController"): return replicationController
        case ("", "Service"): return service
        case ("", "ServiceAccount"): return serviceAccount
        case ("", "Node"): return node
        case ("", "Namespace"): return namespace
        case ("", "PersistentVolumeClaim"): return persistentVolumeClaim
        case ("apps", "Deployment"): return deployment
        case ("apps", "StatefulSet"): return statefulSet
        case ("apps", "DaemonSet"): return daemonSet
        case ("apps", "ReplicaSet"): return replicaSet
        case ("batch", "Job"): return job
        case ("batch", "CronJob"): return cronJob
        default: return genericObject
        }
    }
}
