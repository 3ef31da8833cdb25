import KubeModels

/// The built-in kinds the simulator serves, with the columns and selectors of the real server.
public enum BuiltinResources {
    static let name = TableColumn("Name", format: "name", description: "Name must be unique within a namespace.") {
        $0[path: ["metadata", "name"]] ?? .null
    }
    static let age = TableColumn("Age", description: "CreationTimestamp is a timestamp representing the server time when this object was created.") {
        $0[path: ["metadata", "creationTimestamp"]] ?? .null
    }

    public static let all: [ResourceType] = [
        ResourceType(
            group: "", version: "v1", resource: "namespaces", kind: "Namespace", namespaced: false, shortNames: ["ns"],
            subresources: ["status", "finalize"], fieldSelectors: ["status.phase"],
            columns: [name, .path("Status", "status.phase"), age], hasSpec: false),
        ResourceType(
            group: "", version: "v1", resource: "configmaps", kind: "ConfigMap", namespaced: true, shortNames: ["cm"],
            columns: [
                name,
                TableColumn("Data", type: "integer") {
                    .number(Double($0["data"]?.objectValue?.count ?? 0) + Double($0["binaryData"]?.objectValue?.count ?? 0))
                }, age,
            ],
            hasSpec: false),
        ResourceType(
            group: "", version: "v1", resource: "secrets", kind: "Secret", namespaced: true, fieldSelectors: ["type"],
            columns: [name, .path("Type", "type"), TableColumn("Data", type: "integer") { .number(Double($0["data"]?.objectValue?.count ?? 0)) }, age],
            hasSpec: false),
        ResourceType(
            group: "", version: "v1", resource: "serviceaccounts", kind: "ServiceAccount", namespaced: true, shortNames: ["sa"],
            columns: [name, TableColumn("Secrets", type: "integer") { .number(Double($0["secrets"]?.arrayValue?.count ?? 0)) }, age],
            hasSpec: false),
        ResourceType(
            group: "", version: "v1", resource: "events", kind: "Event", namespaced: true, shortNames: ["ev"],
            fieldSelectors: [
                "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type",
            ],
            columns: [
                .path("Last Seen", "lastTimestamp"), .path("Type", "type"), .path("Reason", "reason"),
                TableColumn("Object") { object in
                    let kind = object[path: ["involvedObject", "kind"]]?.stringValue?.lowercased() ?? ""
                    let name = object[path: ["involvedObject", "name"]]?.stringValue ?? ""
                    return .string("\(kind)/\(name)")
                }, .path("Message", "message"),
            ],
            hasSpec: false),
        ResourceType(
            group: "", version: "v1", resource: "pods", kind: "Pod", namespaced: true, shortNames: ["po"], categories: ["all"],
            subresources: ["status", "log", "exec"],
            fieldSelectors: [
                "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
                "status.nominatedNodeName",
            ],
            columns: [
                name,
                TableColumn("Ready") { pod in
                    let statuses = pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []
                    let total = pod[path: ["spec", "containers"]]?.arrayValue?.count ?? 0
                    let ready = statuses.filter { $0["ready"]?.boolValue == true }.count
                    return .string("\(ready)/\(total)")
                },
                TableColumn("Status") { pod in
                    if pod[path: ["metadata", "deletionTimestamp"]] != nil { return "Terminating" }
                    return pod[path: ["status", "reason"]] ?? pod[path: ["status", "phase"]] ?? "Pending"
                },
                TableColumn("Restarts", type: "string") { pod in
                    let restarts = (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).compactMap { $0["restartCount"]?.intValue }.reduce(0, +)
                    return .string("\(restarts)")
                }, age, .path("IP", "status.podIP", priority: 1), .path("Node", "spec.nodeName", priority: 1),
                TableColumn("Nominated Node", priority: 1) { $0[path: ["status", "nominatedNodeName"]] ?? "<none>" },
                TableColumn("Readiness Gates", priority: 1) { _ in "<none>" },
            ]),
        ResourceType(
            group: "", version: "v1", resource: "persistentvolumes", kind: "PersistentVolume", namespaced: false, shortNames: ["pv"],
            subresources: ["status"],
            columns: [
                name, .path("Capacity", "spec.capacity.storage"), accessModes(["spec", "accessModes"]),
                .path("Reclaim Policy", "spec.persistentVolumeReclaimPolicy"), .path("Status", "status.phase"),
                TableColumn("Claim") { pv in
                    guard let ns = pv[path: ["spec", "claimRef", "namespace"]]?.stringValue,
                        let claim = pv[path: ["spec", "claimRef", "name"]]?.stringValue
                    else { return "" }
                    return .string("\(ns)/\(claim)")
                }, .path("StorageClass", "spec.storageClassName"), .path("VolumeAttributesClass", "spec.volumeAttributesClassName"),
                .path("Reason", "status.reason"), age, .path("VolumeMode", "spec.volumeMode", priority: 1),
            ]),
        ResourceType(
            group: "", version: "v1", resource: "persistentvolumeclaims", kind: "PersistentVolumeClaim", namespaced: true, shortNames: ["pvc"],
            subresources: ["status"],
            columns: [
                name, .path("Status", "status.phase"), .path("Volume", "spec.volumeName"), .path("Capacity", "status.capacity.storage"),
                accessModes(["status", "accessModes"]), .path("StorageClass", "spec.storageClassName"),
                .path("VolumeAttributesClass", "spec.volumeAttributesClassName"), age, .path("VolumeMode", "spec.volumeMode", priority: 1),
            ]),
        ResourceType(
            group: "apps", version: "v1", resource: "deployments", kind: "Deployment", namespaced: true, shortNames: ["deploy"],
            categories: ["all"], subresources: ["status", "scale"],
            columns: [
                name,
                TableColumn("Ready") { d in
                    .string("\(d[path: ["status", "readyReplicas"]]?.intValue ?? 0)/\(d[path: ["spec", "replicas"]]?.intValue ?? 0)")
                }, TableColumn("Up-to-date", type: "integer") { $0[path: ["status", "updatedReplicas"]] ?? 0 },
                TableColumn("Available", type: "integer") { $0[path: ["status", "availableReplicas"]] ?? 0 }, age,
            ]),
        ResourceType(
            group: "apps", version: "v1", resource: "daemonsets", kind: "DaemonSet", namespaced: true, shortNames: ["ds"],
            categories: ["all"], subresources: ["status"],
            columns: [
                name, .path("Desired", "status.desiredNumberScheduled", type: "integer"), .path("Current", "status.currentNumberScheduled", type: "integer"),
                .path("Ready", "status.numberReady", type: "integer"), .path("Up-to-date", "status.updatedNumberScheduled", type: "integer"),
                .path("Available", "status.numberAvailable", type: "integer"), age,
            ]),
        ResourceType(
            group: "apps", version: "v1", resource: "replicasets", kind: "ReplicaSet", namespaced: true, shortNames: ["rs"],
            categories: ["all"], subresources: ["status", "scale"],
            columns: [
                name, .path("Desired", "spec.replicas", type: "integer"), .path("Current", "status.replicas", type: "integer"),
                .path("Ready", "status.readyReplicas", type: "integer"), age,
            ]),
        ResourceType(
            group: "batch", version: "v1", resource: "jobs", kind: "Job", namespaced: true, categories: ["all"],
            subresources: ["status"], fieldSelectors: ["status.successful"],
            columns: [
                name,
                TableColumn("Status") { job in
                    let conditions = job[path: ["status", "conditions"]]?.arrayValue ?? []
                    for type in ["Complete", "Failed", "Suspended"]
                    where conditions.contains(where: { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }) {
                        return .string(type)
                    }
                    return "Running"
                },
                TableColumn("Completions") { job in
                    .string("\(job[path: ["status", "succeeded"]]?.intValue ?? 0)/\(job[path: ["spec", "completions"]]?.intValue ?? 1)")
                }, age,
            ]),
        ResourceType(
            group: "batch", version: "v1", resource: "cronjobs", kind: "CronJob", namespaced: true, shortNames: ["cj"], categories: ["all"],
            subresources: ["status"],
            columns: [
                name, .path("Schedule", "spec.schedule"), TableColumn("Timezone") { $0[path: ["spec", "timeZone"]] ?? "<none>" },
                .path("Suspend", "spec.suspend", type: "boolean"),
                TableColumn("Active", type: "integer") { .number(Double($0[path: ["status", "active"]]?.arrayValue?.count ?? 0)) },
                TableColumn("Last Schedule") { $0[path: ["status", "lastScheduleTime"]] ?? "<none>" }, age,
            ]),
        ResourceType(
            group: "storage.k8s.io", version: "v1", resource: "storageclasses", kind: "StorageClass", namespaced: false, shortNames: ["sc"],
            columns: [
                TableColumn("Name", format: "name") { sc in
                    let name = sc[path: ["metadata", "name"]]?.stringValue ?? ""
                    let isDefault = sc[path: ["metadata", "annotations", StorageClassAdmission.defaultAnnotation]]?.stringValue == "true"
                    return .string(isDefault ? "\(name) (default)" : name)
                }, .path("Provisioner", "provisioner"), .path("ReclaimPolicy", "reclaimPolicy"), .path("VolumeBindingMode", "volumeBindingMode"),
                .path("AllowVolumeExpansion", "allowVolumeExpansion"), age,
            ],
            hasSpec: false),
        ResourceType(
            group: "rbac.authorization.k8s.io", version: "v1", resource: "roles", kind: "Role", namespaced: true, columns: [name, age], hasSpec: false),
        ResourceType(
            group: "rbac.authorization.k8s.io", version: "v1", resource: "rolebindings", kind: "RoleBinding", namespaced: true, columns: [name, age],
            hasSpec: false),
        ResourceType(
            group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterroles", kind: "ClusterRole", namespaced: false, columns: [name, age],
            hasSpec: false),
        ResourceType(
            group: "rbac.authorization.k8s.io", version: "v1", resource: "clusterrolebindings", kind: "ClusterRoleBinding", namespaced: false,
            columns: [name, age], hasSpec: false),
        // Stored so manifests that carry them apply; the simulator does not evaluate CEL.
        ResourceType(
            group: "admissionregistration.k8s.io", version: "v1", resource: "validatingadmissionpolicies", kind: "ValidatingAdmissionPolicy",
            namespaced: false, subresources: ["status"], columns: [name, age]),
        ResourceType(
            group: "admissionregistration.k8s.io", version: "v1", resource: "validatingadmissionpolicybindings", kind: "ValidatingAdmissionPolicyBinding",
            namespaced: false, columns: [name, age]),
        ResourceType(
            group: "apiextensions.k8s.io", version: "v1", resource: "customresourcedefinitions", kind: "CustomResourceDefinition",
            namespaced: false, shortNames: ["crd", "crds"], subresources: ["status"],
            columns: [name, .path("Created At", "metadata.creationTimestamp")]),
    ]

    private static func accessModes(_ path: [String]) -> TableColumn {
        TableColumn("Access Modes") { object in
            let short = ["ReadWriteOnce": "RWO", "ReadOnlyMany": "ROX", "ReadWriteMany": "RWX", "ReadWriteOncePod": "RWOP"]
            let modes = (object[path: path]?.arrayValue ?? []).compactMap { $0.stringValue.map { short[$0] ?? $0 } }
            return .string(modes.joined(separator: ","))
        }
    }
}

/// The DefaultStorageClass admission plugin's annotation.
enum StorageClassAdmission {
    static let defaultAnnotation = "storageclass.kubernetes.io/is-default-class"
}
